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
