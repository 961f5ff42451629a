namespace Floodgate.Client.Leases;

/// <summary>No permit became free within the wait timeout.</summary>
public sealed class LeaseUnavailableException(string limiter, string reason, TimeSpan? retryAfter)
    : Exception($"No lease on '{limiter}': {reason}")
{
    /// <summary>The limiter asked.</summary>
    public string Limiter { get; } = limiter;

    /// <summary>A hint of when to try again.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
