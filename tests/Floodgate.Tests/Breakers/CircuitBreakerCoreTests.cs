using Floodgate.Breakers;
using Floodgate.Grains.Breakers;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Breakers;

public sealed class CircuitBreakerCoreTests
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureThreshold = 3,
        BreakDuration = TimeSpan.FromSeconds(60),
        ProbeTimeout = TimeSpan.FromSeconds(10),
    };

    private readonly FakeTimeProvider _time = new();

    private CircuitBreakerCore CreateOpenSut()
    {
        var core = new CircuitBreakerCore("b", Options, _time);
        for (var i = 0; i < Options.FailureThreshold; i++)
        {
            core.Report(CallResult.Failure, wasProbe: false);
        }

        return core;
    }

    [Fact]
    public void Report_ThresholdConsecutiveFailures_OpensCircuit()
    {
        var core = CreateOpenSut();

        Assert.Equal(CircuitState.Open, core.State);
        var decision = core.TryPass();
        Assert.False(decision.Allowed);
        Assert.Equal(Options.BreakDuration, decision.RetryAfter);
    }

    [Fact]
    public void Report_SuccessBetweenFailures_ResetsCount()
    {
        var core = new CircuitBreakerCore("b", Options, _time);
        core.Report(CallResult.Failure, false);
        core.Report(CallResult.Failure, false);
        core.Report(CallResult.Success, false);
        core.Report(CallResult.Failure, false);

        Assert.Equal(CircuitState.Closed, core.State);
        Assert.Equal(1, core.ConsecutiveFailures);
    }

    [Fact]
    public void Report_IgnoredResults_DoNotCount()
    {
        var core = new CircuitBreakerCore("b", Options, _time);
        for (var i = 0; i < 10; i++)
        {
            core.Report(CallResult.Ignored, false);
        }

        Assert.Equal(CircuitState.Closed, core.State);
    }

    [Fact]
    public void TryPass_AfterBreakDuration_LetsExactlyOneProbeThrough()
    {
        var core = CreateOpenSut();
        _time.Advance(Options.BreakDuration);

        var first = core.TryPass();
        var second = core.TryPass();

        Assert.True(first.Allowed);
        Assert.True(first.IsProbe);
        Assert.False(second.Allowed);
        Assert.Equal(CircuitState.HalfOpen, core.State);
    }

    [Fact]
    public void Report_ProbeSucceeded_ClosesCircuit()
    {
        var core = CreateOpenSut();
        _time.Advance(Options.BreakDuration);
        core.TryPass();

        core.Report(CallResult.Success, wasProbe: true);

        Assert.Equal(CircuitState.Closed, core.State);
        Assert.True(core.TryPass().Allowed);
    }

    [Fact]
    public void Report_ProbeFailed_ReopensForAnotherBreak()
    {
        var core = CreateOpenSut();
        _time.Advance(Options.BreakDuration);
        core.TryPass();

        core.Report(CallResult.Failure, wasProbe: true);

        Assert.Equal(CircuitState.Open, core.State);
        Assert.Equal(2, core.Trips);
        Assert.False(core.TryPass().Allowed);
    }

    [Fact]
    public void TryPass_ProbeNeverReported_FreesSlotAfterProbeTimeout()
    {
        var core = CreateOpenSut();
        _time.Advance(Options.BreakDuration);
        core.TryPass();

        _time.Advance(Options.ProbeTimeout);

        Assert.True(core.TryPass().IsProbe);
    }

    [Fact]
    public void Report_IgnoredProbe_LetsNextCallerProbe()
    {
        var core = CreateOpenSut();
        _time.Advance(Options.BreakDuration);
        core.TryPass();

        core.Report(CallResult.Ignored, wasProbe: true);

        Assert.Equal(CircuitState.HalfOpen, core.State);
        Assert.True(core.TryPass().IsProbe);
    }
}
