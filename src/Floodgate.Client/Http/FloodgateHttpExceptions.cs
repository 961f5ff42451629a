using System.Net;

namespace Floodgate.Client.Http;

/// <summary>
/// The silo refused the API key: <see cref="HttpStatusCode.Unauthorized"/> (no key, or one the silo does not know) or
/// <see cref="HttpStatusCode.Forbidden"/> (the key lacks the role, e.g. a client key changing limits). The message is
/// the silo's; it never contains the key.
/// </summary>
public sealed class FloodgateAccessDeniedException(HttpStatusCode statusCode, string message) : Exception(message)
{
    /// <summary>401 or 403.</summary>
    public HttpStatusCode StatusCode { get; } = statusCode;
}

/// <summary>
/// The silo answered with an error that is neither bad input, nor not found, nor a refused key: the cluster unavailable
/// (503), no permit (429), an unexpected failure (500). The message is the silo's problem text.
/// </summary>
public sealed class FloodgateHttpException(HttpStatusCode statusCode, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>The silo's <c>Retry-After</c>, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
