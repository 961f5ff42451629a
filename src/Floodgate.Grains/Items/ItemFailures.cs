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

/// <summary>A lease was lost (expired or gone at its limiter) before or during the upstream call; the attempt is retried.</summary>
internal sealed class PermitLostException(string limiter)
    : Exception($"The permit of limiter '{limiter}' was lost before the call finished; the item is retried.");

/// <summary>A limiter or breaker stayed unreachable through a silo failover longer than the cluster retry allows.</summary>
internal sealed class ClusterUnavailableException(string what, Exception inner)
    : Exception($"The cluster could not reach {what}: {ClusterFaults.Describe(inner)}.", inner);

/// <summary>How a failure counts: for retries and for the shared breaker.</summary>
internal static class ItemFailures
{
    public static bool IsTransient(Exception ex) => ex switch
    {
        UpstreamException u => u.IsTransient,
        TimeoutRejectedException => true,
        CircuitOpenException => true,
        PermitLostException => true,
        ClusterUnavailableException => true,
        _ => IsClusterFault(ex),
    };

    /// <summary>A fault of the cluster, not of the item (see <see cref="ClusterFaults"/>): retried, never the item's failure.</summary>
    public static bool IsClusterFault(Exception ex) => ClusterFaults.IsTransient(ex);

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
        UpstreamException or CircuitOpenException or PermitUnavailableException or PermitLostException or ClusterUnavailableException => ex.Message,
        _ when IsClusterFault(ex) => $"The cluster was unavailable: {ClusterFaults.Describe(ex)}.",
        TimeoutRejectedException t when t.Timeout == attemptTimeout => $"The upstream call timed out after {attemptTimeout.TotalSeconds:0.###} s.",
        TimeoutRejectedException t => $"The item timed out after {t.Timeout.TotalSeconds:0.###} s in total.",
        _ => $"Processor failed: {ex.GetType().Name}: {ex.Message}",
    };
}
