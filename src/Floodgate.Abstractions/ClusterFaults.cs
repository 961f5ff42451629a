using Floodgate.Limiting;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace Floodgate;

/// <summary>
/// The one place that decides whether a failed grain call is a fault of the cluster — a silo died or is stopping, a
/// message was rejected or timed out, a limiter moved to another activation — rather than of the request. Such calls
/// are retried (acquires with the same request id) by items, the SDK and the HTTP API.
/// </summary>
public static class ClusterFaults
{
    /// <summary>True when retrying the same call may succeed once the cluster has settled.</summary>
    public static bool IsTransient(Exception ex) => ex is LimiterMovedException
        or SiloUnavailableException
        or OrleansMessageRejectionException
        or ConnectionFailedException
        or GatewayTooBusyException
        or InconsistentStateException
        or TimeoutException;

    /// <summary>True for an acquire answer that means "ask again": the limiter moved, or could not record the grant.</summary>
    public static bool IsTransient(AcquireResult result) => result.Failure is AcquireFailure.Fenced or AcquireFailure.Unavailable;

    /// <summary>
    /// Runs <paramref name="call"/> and repeats it after cluster faults, with backoff, until it succeeds or
    /// <paramref name="limit"/> has passed; returns false when it never got through (other errors too). Retries continue
    /// off the caller's scheduler, so they outlive a grain activation that is going away (a release or a cancel must
    /// land even then, or the limiter counts the permits until their TTL).
    /// </summary>
    public static async Task<bool> RetryAsync(Func<Task> call, TimeSpan limit, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(time);
        var giveUpAt = time.GetUtcNow() + limit;
        for (var delay = FirstRetryDelay; ; delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2)
        {
            try
            {
                await call();
                return true;
            }
            catch (Exception ex) when (IsTransient(ex) && time.GetUtcNow() + delay < giveUpAt)
            {
                await Task.Delay(delay, time).ConfigureAwait(false);
            }
            catch (Exception)
            {
                return false;
            }
        }
    }

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>A short description of a cluster fault for error messages: no silo address, no stack, no inner message.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        LimiterMovedException => "the limiter kept moving between activations",
        SiloUnavailableException => "its silo was unavailable",
        OrleansMessageRejectionException => "messages were rejected (a silo was stopping or had died)",
        ConnectionFailedException => "connections failed",
        TimeoutException => "calls timed out",
        _ => "it did not answer",
    };
}
