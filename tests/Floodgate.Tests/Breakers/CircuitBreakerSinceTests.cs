using Floodgate.Breakers;
using Floodgate.Grains.Breakers;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Breakers;

public sealed class CircuitBreakerSinceTests
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureThreshold = 2,
        BreakDuration = TimeSpan.FromSeconds(60),
        ProbeTimeout = TimeSpan.FromSeconds(10),
    };

    private readonly FakeTimeProvider _time = new();

    private CircuitBreakerCore CreateSut() => new("b", Options, _time);

    [Fact]
    public void Snapshot_NeverOpened_IsClosedSinceCreation()
    {
        var created = _time.GetUtcNow();
        var core = CreateSut();
        _time.Advance(TimeSpan.FromMinutes(5));
        core.Report(CallResult.Failure, wasProbe: false);

        Assert.Equal(created, core.Snapshot().StateSince);
    }

    [Fact]
    public void Snapshot_EachTransition_MovesSinceToTheTransition()
    {
        var core = CreateSut();
        _time.Advance(TimeSpan.FromSeconds(7));
        core.Report(CallResult.Failure, false);
        core.Report(CallResult.Failure, false);
        var opened = _time.GetUtcNow();
        Assert.Equal((CircuitState.Open, opened), (core.State, core.Snapshot().StateSince));

        _time.Advance(Options.BreakDuration);
        var probe = core.TryPass();
        var halfOpened = _time.GetUtcNow();
        Assert.Equal((CircuitState.HalfOpen, halfOpened), (core.State, core.Snapshot().StateSince));

        _time.Advance(TimeSpan.FromSeconds(3));
        core.Report(CallResult.Success, probe.IsProbe);
        Assert.Equal((CircuitState.Closed, _time.GetUtcNow()), (core.State, core.Snapshot().StateSince));
    }

    [Fact]
    public void Close_AlreadyClosed_KeepsSince()
    {
        var created = _time.GetUtcNow();
        var core = CreateSut();
        _time.Advance(TimeSpan.FromSeconds(30));

        core.Close();

        Assert.Equal(created, core.Snapshot().StateSince);
    }
}
