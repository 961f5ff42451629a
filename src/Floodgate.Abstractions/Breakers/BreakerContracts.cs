namespace Floodgate.Breakers;

/// <summary>The state of a shared circuit breaker.</summary>
public enum CircuitState
{
    /// <summary>Calls flow.</summary>
    Closed = 0,

    /// <summary>Calls are rejected until the break duration passes.</summary>
    Open = 1,

    /// <summary>One probe call at a time is let through; its result closes or re-opens the circuit.</summary>
    HalfOpen = 2,
}

/// <summary>The breaker's answer to "may I call the upstream now?".</summary>
/// <param name="Allowed">True when the call may proceed.</param>
/// <param name="IsProbe">True when this call is the single half-open probe; its report decides the circuit.</param>
/// <param name="RetryAfter">When rejected, how long until the breaker will let a probe through.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.BreakerDecision")]
public sealed record BreakerDecision(
    [property: Id(0)] bool Allowed,
    [property: Id(1)] bool IsProbe,
    [property: Id(2)] TimeSpan RetryAfter)
{
    /// <summary>A plain allowed call (circuit closed).</summary>
    public static readonly BreakerDecision Pass = new(true, false, TimeSpan.Zero);
}

/// <summary>What a caller tells the breaker after its call.</summary>
public enum CallResult
{
    /// <summary>The upstream answered (including permanent client errors such as 400: the upstream is healthy).</summary>
    Success = 0,

    /// <summary>The upstream failed in a way that counts against its health (5xx, timeout, connection error).</summary>
    Failure = 1,

    /// <summary>The call did not reach the upstream or says nothing of its health (no permit, cancelled, 429).</summary>
    Ignored = 2,
}

/// <summary>A snapshot of a shared circuit breaker. <c>StateSince</c>: when the circuit entered its current state (for a
/// closed circuit that never opened, when this activation of the breaker started).</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.CircuitStatus")]
public sealed record CircuitStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] CircuitState State,
    [property: Id(2)] int ConsecutiveFailures,
    [property: Id(3)] int FailureThreshold,
    [property: Id(4)] TimeSpan BreakDuration,
    [property: Id(5)] DateTimeOffset? OpenUntil,
    [property: Id(6)] long Trips,
    [property: Id(7)] long Rejections,
    [property: Id(8)] DateTimeOffset? StateSince = null);

/// <summary>
/// A circuit breaker shared by the whole cluster (key: breaker name, by default the limiter name), so every silo sees
/// the same open circuit.
/// </summary>
[Alias("Floodgate.ICircuitBreakerGrain")]
public interface ICircuitBreakerGrain : IGrainWithStringKey
{
    /// <summary>Asks whether a call may go to the upstream now.</summary>
    [Alias("TryPass")]
    Task<BreakerDecision> TryPassAsync();

    /// <summary>Reports how a call that was let through ended.</summary>
    [Alias("Report")]
    Task ReportAsync(CallResult result, bool wasProbe);

    /// <summary>Returns the breaker's state.</summary>
    [Alias("GetStatus")]
    Task<CircuitStatus> GetStatusAsync();

    /// <summary>Closes the circuit and clears its failure count (an operator's manual reset).</summary>
    [Alias("Reset")]
    Task<CircuitStatus> ResetAsync();
}
