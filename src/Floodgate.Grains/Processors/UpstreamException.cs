using System.Net;

namespace Floodgate.Grains.Processors;

/// <summary>
/// A failed upstream call, classified. The message must never carry a secret or a raw upstream body (providers echo
/// parts of API keys in their error texts).
/// </summary>
public sealed class UpstreamException(string message, int? statusCode, bool isTransient, TimeSpan? retryAfter = null)
    : Exception(message)
{
    /// <summary>The HTTP status the upstream answered, when there was one.</summary>
    public int? StatusCode { get; } = statusCode;

    /// <summary>True when trying again may succeed (429, 5xx, 408, connection errors).</summary>
    public bool IsTransient { get; } = isTransient;

    /// <summary>The upstream asked to wait this long before trying again.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>True for a rate-limit answer (429).</summary>
    public bool IsRateLimited => StatusCode == (int)HttpStatusCode.TooManyRequests;

    /// <summary>Classifies an HTTP status: 408, 429 and 5xx are transient; other 4xx are permanent.</summary>
    public static UpstreamException FromStatus(HttpStatusCode status, TimeSpan? retryAfter, string? detail = null)
    {
        var code = (int)status;
        var transient = code is 408 or 429 || code >= 500;
        var text = $"Upstream answered {code} ({status})" + (detail is null ? "." : $": {detail}.");
        return new UpstreamException(text, code, transient, retryAfter);
    }
}
