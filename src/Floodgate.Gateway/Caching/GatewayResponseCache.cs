using System.Net;
using System.Text;
using Floodgate.Gateway.Admission;
using Floodgate.Grains.Caching;
using Microsoft.AspNetCore.Http;

namespace Floodgate.Gateway.Caching;

/// <summary>
/// The gateway's use of the shared result cache (<see cref="SharedResultCache"/>) for keys with
/// <see cref="GatewayKeyOptions.Cache"/>: which requests share an answer, which answers may be kept, and how a cached
/// answer is sent. The key and its normalization are the cache's own (<see cref="ResultCaching.Key"/>), with the
/// upstream and the endpoint in place of a processor's options.
/// </summary>
internal static class GatewayResponseCache
{
    /// <summary>The response header saying an answer came from the cache.</summary>
    public const string Header = "x-floodgate-cache";

    /// <summary>Stands where a processor's name stands in item keys, so gateway answers never share a key with items.</summary>
    private const string Processor = "gateway";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The cache key of a request: upstream, endpoint path and the normalized JSON body.</summary>
    public static string Key(string upstream, OpenAiEndpoint endpoint, byte[] body) =>
        ResultCaching.Key(
            Processor,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["upstream"] = upstream, ["path"] = Path(endpoint) },
            Encoding.UTF8.GetString(body));

    /// <summary>Most bytes worth keeping for a result of at most <paramref name="maxResultLength"/> UTF-16 characters.</summary>
    public static long CaptureLimit(int maxResultLength) => 3L * maxResultLength;

    /// <summary>
    /// The answer to store, or null when it must not be kept: only a whole, uncompressed JSON 200 that fits the cache's
    /// size bound (an error, a cut-off or an oversized answer is forwarded but never served to anyone else).
    /// </summary>
    /// <param name="answered">The upstream's answer; null when it never answered.</param>
    /// <param name="forwardedWhole">True when the answer reached the client whole.</param>
    /// <param name="sent">The client's response, as the proxy copied the answer's headers into it.</param>
    /// <param name="capture">The copy of the body.</param>
    /// <param name="maxResultLength">The cache's size bound, in UTF-16 characters.</param>
    public static string? Cacheable(HttpResponseMessage? answered, bool forwardedWhole, HttpResponse sent, ResponseCapture capture, int maxResultLength)
    {
        if (!forwardedWhole || capture.Overflowed || answered?.StatusCode != HttpStatusCode.OK
            || sent.ContentType is not { } type || !type.Contains("json", StringComparison.OrdinalIgnoreCase)
            || sent.Headers.ContentEncoding.Any(e => !string.Equals(e, "identity", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(capture.Captured);
        }
        catch (ArgumentException)
        {
            return null;
        }

        return text.Length is > 0 && text.Length <= maxResultLength ? text : null;
    }

    /// <summary>Sends a cached answer: 200, JSON, marked with <see cref="Header"/>.</summary>
    public static Task WriteHitAsync(HttpContext context, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers[Header] = "hit";
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static string Path(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "/v1/chat/completions",
        OpenAiEndpoint.Completions => "/v1/completions",
        OpenAiEndpoint.Embeddings => "/v1/embeddings",
        _ => "/v1/models",
    };
}
