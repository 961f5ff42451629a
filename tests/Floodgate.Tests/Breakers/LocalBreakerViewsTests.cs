using Floodgate.Breakers;
using Floodgate.Grains.Breakers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Breakers;

public sealed class LocalBreakerViewsTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMilliseconds(250);
    private static readonly BreakerView ClosedClean = new(CircuitState.Closed, CountsFailures: false);
    private static readonly BreakerView ClosedCounting = new(CircuitState.Closed, CountsFailures: true);

    private readonly FakeTimeProvider _time = new();

    private LocalBreakerViews CreateSut(TimeSpan? ttl = null) =>
        new(Options.Create(new CircuitBreakerOptions { LocalViewTtl = ttl ?? Ttl }), _time);

    [Fact]
    public void IsKnownClosed_NothingLearned_AsksTheBreaker()
    {
        var views = CreateSut();

        Assert.False(views.IsKnownClosed("b"));
        Assert.True(views.MustReport("b", CallResult.Success, wasProbe: false));
    }

    [Fact]
    public void IsKnownClosed_FreshClosedView_PassesWithoutAskingAndSkipsSuccessReports()
    {
        var views = CreateSut();
        views.Learn("b", ClosedClean);

        Assert.True(views.IsKnownClosed("b"));
        Assert.False(views.MustReport("b", CallResult.Success, wasProbe: false));
        Assert.False(views.MustReport("b", CallResult.Ignored, wasProbe: false));
    }

    [Fact]
    public void IsKnownClosed_ViewOlderThanTtl_AsksAgain()
    {
        var views = CreateSut();
        views.Learn("b", ClosedClean);

        _time.Advance(Ttl);

        Assert.False(views.IsKnownClosed("b"));
        Assert.True(views.MustReport("b", CallResult.Success, wasProbe: false));
    }

    [Fact]
    public void MustReport_FailuresAndProbes_AlwaysReported()
    {
        var views = CreateSut();
        views.Learn("b", ClosedClean);

        Assert.True(views.MustReport("b", CallResult.Failure, wasProbe: false));
        Assert.True(views.MustReport("b", CallResult.Success, wasProbe: true));
        Assert.True(views.MustReport("b", CallResult.Ignored, wasProbe: true));
    }

    [Fact]
    public void MustReport_ClosedWhileCountingFailures_ReportsSuccessesSoTheyResetTheCount()
    {
        var views = CreateSut();
        views.Learn("b", ClosedCounting);

        Assert.True(views.IsKnownClosed("b"));
        Assert.True(views.MustReport("b", CallResult.Success, wasProbe: false));
    }

    [Theory]
    [InlineData(CircuitState.Open)]
    [InlineData(CircuitState.HalfOpen)]
    public void IsKnownClosed_OpenOrHalfOpenView_AsksTheBreaker(CircuitState state)
    {
        var views = CreateSut();
        views.Learn("b", ClosedClean);

        views.Learn("b", new BreakerView(state, CountsFailures: false));

        Assert.False(views.IsKnownClosed("b"));
    }

    [Fact]
    public void IsKnownClosed_ZeroTtl_AlwaysAsksAndReports()
    {
        var views = CreateSut(TimeSpan.Zero);
        views.Learn("b", ClosedClean);

        Assert.False(views.IsKnownClosed("b"));
        Assert.True(views.MustReport("b", CallResult.Success, wasProbe: false));
    }

    [Fact]
    public void Learn_ViewsAreKeptPerBreaker()
    {
        var views = CreateSut();
        views.Learn("a", ClosedClean);

        Assert.True(views.IsKnownClosed("a"));
        Assert.False(views.IsKnownClosed("b"));
    }

    [Fact]
    public void Learn_MoreBreakersThanTheCap_StartsOverWithoutLosingTheNewView()
    {
        var views = CreateSut();
        for (var i = 0; i < LocalBreakerViews.MaxBreakers; i++)
        {
            views.Learn($"b{i}", ClosedClean);
        }

        views.Learn("newest", ClosedClean);

        Assert.True(views.IsKnownClosed("newest"));
        Assert.False(views.IsKnownClosed("b0"));
    }
}

public sealed class CircuitBreakerOptionsTests
{
    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(CircuitBreakerOptions options) =>
        new CircuitBreakerOptionsValidator().Validate(null, options);

    [Fact]
    public void Validate_Defaults_Succeed() => Assert.True(Validate(new CircuitBreakerOptions()).Succeeded);

    [Theory]
    [InlineData(-1)]
    [InlineData(61_000)]
    public void Validate_LocalViewTtlOutOfRange_FailsNamingTheKey(int milliseconds)
    {
        var result = Validate(new CircuitBreakerOptions
        {
            BreakDuration = TimeSpan.FromSeconds(60),
            LocalViewTtl = TimeSpan.FromMilliseconds(milliseconds),
        });

        Assert.Contains("Floodgate:CircuitBreaker:LocalViewTtl", result.FailureMessage);
    }
}
