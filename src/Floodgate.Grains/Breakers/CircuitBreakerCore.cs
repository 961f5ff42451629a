using Floodgate.Breakers;

namespace Floodgate.Grains.Breakers;

/// <summary>
/// The breaker's state machine without Orleans: closed → (threshold consecutive failures) → open → (break duration)
/// → half-open with exactly one probe in flight → closed on success, open again on failure.
/// </summary>
internal sealed class CircuitBreakerCore(string name, CircuitBreakerOptions options, TimeProvider time)
{
    private DateTimeOffset _openUntil;
    private DateTimeOffset? _probeStartedAt;
    private DateTimeOffset _stateSince = time.GetUtcNow();

    public CircuitState State { get; private set; } = CircuitState.Closed;

    public int ConsecutiveFailures { get; private set; }

    public long Trips { get; private set; }

    public long Rejections { get; private set; }

    public BreakerDecision TryPass()
    {
        var now = time.GetUtcNow();
        if (State == CircuitState.Open && now >= _openUntil)
        {
            State = CircuitState.HalfOpen;
            _stateSince = now;
            _probeStartedAt = null;
        }

        switch (State)
        {
            case CircuitState.Closed:
                return BreakerDecision.Pass;
            case CircuitState.HalfOpen when _probeStartedAt is null || now - _probeStartedAt >= options.ProbeTimeout:
                _probeStartedAt = now;
                return new BreakerDecision(true, true, TimeSpan.Zero);
            case CircuitState.HalfOpen:
                Rejections++;
                return new BreakerDecision(false, false, options.ProbeTimeout - (now - _probeStartedAt!.Value));
            default:
                Rejections++;
                return new BreakerDecision(false, false, _openUntil - now);
        }
    }

    public void Report(CallResult result, bool wasProbe)
    {
        if (wasProbe && State == CircuitState.HalfOpen)
        {
            _probeStartedAt = null;
            switch (result)
            {
                case CallResult.Success:
                    Close();
                    break;
                case CallResult.Failure:
                    Open();
                    break;
            }

            // Ignored: the probe said nothing; the next caller becomes the probe.
            return;
        }

        switch (result)
        {
            case CallResult.Success when State == CircuitState.Closed:
                ConsecutiveFailures = 0;
                break;
            case CallResult.Failure when State == CircuitState.Closed:
                if (++ConsecutiveFailures >= options.FailureThreshold)
                {
                    Open();
                }

                break;
        }
    }

    public void Close()
    {
        if (State != CircuitState.Closed)
        {
            _stateSince = time.GetUtcNow();
        }

        State = CircuitState.Closed;
        ConsecutiveFailures = 0;
        _probeStartedAt = null;
    }

    public CircuitStatus Snapshot() => new(
        name,
        State,
        ConsecutiveFailures,
        options.FailureThreshold,
        options.BreakDuration,
        State == CircuitState.Open ? _openUntil : null,
        Trips,
        Rejections,
        _stateSince);

    private void Open()
    {
        State = CircuitState.Open;
        _stateSince = time.GetUtcNow();
        _openUntil = _stateSince + options.BreakDuration;
        Trips++;
    }
}
