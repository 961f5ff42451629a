using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Simulator.Tests;

public sealed class SimulatorStateTests
{
    [Fact]
    public void EnterRequest_ManyConcurrentEntries_MaxConcurrentIsPeakInFlight()
    {
        var state = new SimulatorState(new SimulatorOptions(), TimeProvider.System);
        const int Threads = 16;
        using var allEntered = new Barrier(Threads);

        // Dedicated threads, not the thread pool: blocking pool threads would slow every other test down.
        Thread[] threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            state.EnterRequest();
            allEntered.SignalAndWait();
            state.ExitRequest();
        })).ToArray();
        Array.ForEach(threads, t => t.Start());
        Array.ForEach(threads, t => t.Join());

        SimulatorStats stats = state.GetStats();
        Assert.Equal(Threads, stats.MaxConcurrent);
        Assert.Equal(Threads, stats.TotalRequests);
        Assert.Equal(0, stats.CurrentConcurrent);
    }

    [Fact]
    public void ResetStats_WhileRequestsInFlight_KeepsCurrentAndRestartsMaxFromIt()
    {
        var state = new SimulatorState(new SimulatorOptions(), TimeProvider.System);
        state.EnterRequest();
        state.EnterRequest();
        state.EnterRequest();
        state.ExitRequest();

        state.ResetStats();

        SimulatorStats stats = state.GetStats();
        Assert.Equal(2, stats.CurrentConcurrent);
        Assert.Equal(2, stats.MaxConcurrent);
        Assert.Equal(0, stats.TotalRequests);
    }

    [Fact]
    public void TryAcquireRateSlot_WindowFull_FreesSlotsExactlySixtySecondsLater()
    {
        var time = new FakeTimeProvider();
        var state = new SimulatorState(new SimulatorOptions { RequestsPerMinute = 2 }, time);

        Assert.True(state.TryAcquireRateSlot());
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(state.TryAcquireRateSlot());
        Assert.False(state.TryAcquireRateSlot());

        time.Advance(TimeSpan.FromSeconds(29.999));
        Assert.False(state.TryAcquireRateSlot());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(state.TryAcquireRateSlot());
        Assert.False(state.TryAcquireRateSlot());
    }

    [Fact]
    public void TryAcquireRateSlot_Unlimited_AlwaysSucceeds()
    {
        var state = new SimulatorState(new SimulatorOptions { RequestsPerMinute = 0 }, new FakeTimeProvider());

        Assert.All(Enumerable.Range(0, 1000), _ => Assert.True(state.TryAcquireRateSlot()));
    }

    [Fact]
    public void NextLatencyMs_WithJitter_StaysInRangeAndRepeatsForSameSeed()
    {
        var options = new SimulatorOptions { LatencyMs = 100, LatencyJitterMs = 50, Seed = 3 };
        var a = new SimulatorState(options, TimeProvider.System);
        var b = new SimulatorState(options, TimeProvider.System);

        long[] first = Enumerable.Range(0, 100).Select(_ => a.NextLatencyMs()).ToArray();
        long[] second = Enumerable.Range(0, 100).Select(_ => b.NextLatencyMs()).ToArray();

        Assert.Equal(first, second);
        Assert.All(first, ms => Assert.InRange(ms, 100, 150));
        Assert.True(first.Distinct().Count() > 1);
    }

    [Theory]
    [InlineData("plain prompt", null, null)]
    [InlineData("x [fail:418] y", 418, null)]
    [InlineData("[fail-first:3:503]", 503, 3)]
    [InlineData("[fail:abc]", null, null)]
    public void TryParse_FaultTriggers_AreRecognised(string prompt, int? status, int? failFirst)
    {
        using JsonDocument doc = JsonDocument.Parse(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = prompt } } }));

        Assert.True(ChatRequestParser.TryParse(doc.RootElement, out ChatRequest? request, out _));

        Assert.Equal(status, request.Fault?.StatusCode);
        Assert.Equal(failFirst, request.Fault?.FailFirst);
    }
}
