using System.Text.Json;

namespace Floodgate.Grains.Processors;

/// <summary>What the processors that speak plain HTTP (<c>http</c>, <c>replicate</c>) share: sending and classifying.</summary>
public static class UpstreamHttp
{
    /// <summary>Sends <paramref name="request"/>; a connection failure becomes a transient <see cref="UpstreamException"/>.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            // The exception text names the host at most; it never carries headers.
            throw new UpstreamException($"Upstream unreachable: {ex.HttpRequestError}.", null, isTransient: true);
        }
    }

    /// <summary>Throws the classified <see cref="UpstreamException"/> for a non-success answer (body never quoted).</summary>
    public static void ThrowIfFailed(HttpResponseMessage response, TimeProvider time, string? what = null)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw UpstreamException.FromStatus(response.StatusCode, RetryAfter(response, time), what);
        }
    }

    /// <summary>The answer's JSON body; a body that is not JSON is a permanent failure.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new UpstreamException($"Upstream answered {(int)response.StatusCode} with a body that is not JSON.", (int)response.StatusCode, isTransient: false);
        }
    }

    /// <summary>The wait a <c>Retry-After</c> header asks for (seconds or a date).</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero,
            _ => null,
        };

    /// <summary>Reads a dotted path of a JSON value: object fields and array indexes (<c>choices.0.text</c>).</summary>
    public static bool TrySelect(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        foreach (var part in path.Split('.'))
        {
            if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty(part, out var child))
            {
                value = child;
            }
            else if (value.ValueKind == JsonValueKind.Array && int.TryParse(part, out var index) && index >= 0 && index < value.GetArrayLength())
            {
                value = value[index];
            }
            else
            {
                value = default;
                return false;
            }
        }

        return true;
    }
}
