using Floodgate.Grains.Draining;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Draining;

public sealed class SiloDrainTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ItemRuns _runs = new();

    private SiloDrain CreateSut(TimeSpan timeout) =>
        new(_runs, Options.Create(new DrainOptions { Timeout = timeout }), _time, NullLogger<SiloDrain>.Instance);

    [Fact]
    public async Task DrainAsync_NoRuns_ReturnsAtOnce()
    {
        await CreateSut(TimeSpan.FromSeconds(30)).DrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task DrainAsync_RunsInProgress_ReturnsWhenTheLastOneEnds()
    {
        var first = _runs.Start();
        var second = _runs.Start();
        var drain = CreateSut(TimeSpan.FromSeconds(30)).DrainAsync(CancellationToken.None);

        first.Dispose();
        first.Dispose(); // ending twice counts once
        Assert.False(drain.IsCompleted);
        Assert.Equal(1, _runs.Running);

        second.Dispose();
        await drain.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, _runs.Running);
    }

    [Fact]
    public async Task DrainAsync_RunOutlastsTheTimeout_ReturnsAtTheTimeoutWithTheRunStillCounted()
    {
        using var run = _runs.Start();
        var drain = CreateSut(TimeSpan.FromSeconds(30)).DrainAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(50);
        Assert.False(drain.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        await drain.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _runs.Running);
    }

    [Fact]
    public async Task DrainAsync_ZeroTimeout_DoesNotWait()
    {
        using var run = _runs.Start();

        await CreateSut(TimeSpan.Zero).DrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task DrainAsync_HostStopDeadlinePasses_StopsWaiting()
    {
        using var run = _runs.Start();
        using var host = new CancellationTokenSource();
        var drain = CreateSut(TimeSpan.FromMinutes(5)).DrainAsync(host.Token);

        await host.CancelAsync();

        await drain.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task DrainAsync_Begins_NewRunsAreRefusedFromThenOn()
    {
        Assert.True(_runs.Accepting);

        await CreateSut(TimeSpan.FromSeconds(30)).DrainAsync(CancellationToken.None);

        Assert.False(_runs.Accepting);
    }

    [Fact]
    public async Task DrainAsync_ZeroTimeout_KeepsAcceptingRuns()
    {
        await CreateSut(TimeSpan.Zero).DrainAsync(CancellationToken.None);

        Assert.True(_runs.Accepting);
    }

    [Fact]
    public async Task WhenIdleAsync_RunStartsAfterIdle_WaitsForItToo()
    {
        var before = _runs.Start();
        before.Dispose();
        await _runs.WhenIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));

        var later = _runs.Start();
        var idle = _runs.WhenIdleAsync(CancellationToken.None);
        Assert.False(idle.IsCompleted);
        later.Dispose();
        await idle.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
