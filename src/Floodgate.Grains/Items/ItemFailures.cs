using Floodgate.Breakers;
using Floodgate.Grains.Processors;
using Polly.Timeout;

namespace Floodgate.Grains.Items;

/// <summary>The shared breaker rejected the attempt; retried after <see cref="RetryAfter"/>.</summary>
internal sealed class CircuitOpenException(string breaker, TimeSpan retryAfter)
    : Exception($"Circuit '{breaker}' is open; the upstream is failing.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>No global permit became free within the acquire timeout. Not retried: the wait already was the retry.</summary>
internal sealed class PermitUnavailableException(string reason) : Exception(reason);

/// <summary>How a failure counts: for retries and for the shared breaker.</summary>
internal static class ItemFailures
{
    public static bool IsTransient(Exception ex) => ex switch
    {
        UpstreamException u => u.IsTransient,
        TimeoutRejectedException => true,
        CircuitOpenException => true,
        _ => false,
    };

    /// <summary>What the breaker learns from an attempt that reached the upstream and threw.</summary>
    public static CallResult ForBreaker(Exception ex) => ex switch
    {
        UpstreamException { IsRateLimited: true } => CallResult.Ignored,
        UpstreamException { IsTransient: true } => CallResult.Failure,
        UpstreamException => CallResult.Success,
        TimeoutRejectedException => CallResult.Failure,
        OperationCanceledException => CallResult.Ignored,
        _ => CallResult.Failure,
    };

    /// <summary>A user-facing, secret-free description of why an item failed.</summary>
    public static string Describe(Exception ex, TimeSpan attemptTimeout) => ex switch
    {
        UpstreamException or CircuitOpenException or PermitUnavailableException => ex.Message,
        TimeoutRejectedException t when t.Timeout == attemptTimeout => $"The upstream call timed out after {attemptTimeout.TotalSeconds:0.###} s.",
        TimeoutRejectedException t => $"The item timed out after {t.Timeout.TotalSeconds:0.###} s in total.",
        _ => $"Processor failed: {ex.GetType().Name}: {ex.Message}",
    };
}
