using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Simulator.Tests;

public sealed class LimitTests
{
    [Fact]
    public async Task ChatCompletions_ParallelRequestsAboveMaxConcurrency_RejectsExcessWith429AndRetryAfter()
    {
        // Accepted requests hold their slot for 1.5 s, so all 8 arrive while the first 3 are still in flight.
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { MaxConcurrency = 3, LatencyMs = 1500, RetryAfterSeconds = 2 });
        (await sim.Http.GetAsync("health")).Dispose(); // warm up Kestrel before the burst

        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => sim.ChatAsync("parallel " + i)));
        try
        {
            HttpResponseMessage[] rejected = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToArray();
            Assert.Equal(5, rejected.Length);
            Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            foreach (HttpResponseMessage response in rejected)
            {
                Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
                Assert.Equal("rate_limit_exceeded", await TestSimulator.ErrorTypeAsync(response));
                string message = (await TestSimulator.ReadJsonAsync(response)).GetProperty("error").GetProperty("message").GetString()!;
                Assert.Contains("concurrency limit", message);
            }

            SimulatorStats stats = sim.Server.GetStats();
            Assert.Equal(8, stats.TotalRequests);
            Assert.Equal(5, stats.RateLimited);
            Assert.Equal(3, stats.Completed);
            Assert.True(stats.MaxConcurrent >= 4, $"MaxConcurrent {stats.MaxConcurrent} must include the rejected requests (> limit of 3).");
            Assert.Equal(0, stats.CurrentConcurrent);
        }
        finally
        {
            foreach (HttpResponseMessage response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task MaxConcurrentFor_ParallelRequestsOfTwoModels_CountsEachModelSeparately()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { MaxConcurrency = 0, LatencyMs = 1000 });
        (await sim.Http.GetAsync("health")).Dispose();

        var responses = await Task.WhenAll(
            Enumerable.Range(0, 3).Select(i => sim.Http.PostAsync("v1/chat/completions", TestSimulator.ChatBody("a" + i, "model-a")))
                .Concat(Enumerable.Range(0, 2).Select(i => sim.Http.PostAsync("v1/chat/completions", TestSimulator.ChatBody("b" + i, "model-b")))));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        Assert.Equal(3, sim.Server.MaxConcurrentFor("model-a"));
        Assert.Equal(2, sim.Server.MaxConcurrentFor("model-b"));
        Assert.Equal(0, sim.Server.MaxConcurrentFor("never-used"));
        sim.Server.ResetStats();
        Assert.Equal(0, sim.Server.MaxConcurrentFor("model-a"));
    }

    [Fact]
    public async Task ChatCompletions_SequentialRequestsAtConcurrencyOne_NeverRejected()
    {
        // A request leaves the in-flight count before its response is sent, so a strictly sequential client
        // is never seen overlapping with itself.
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { MaxConcurrency = 1, LatencyMs = 0 });

        for (int i = 0; i < 30; i++)
        {
            using var response = await sim.ChatAsync("sequential " + i);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        SimulatorStats stats = sim.Server.GetStats();
        Assert.Equal(30, stats.Completed);
        Assert.Equal(1, stats.MaxConcurrent);
    }

    [Fact]
    public async Task ChatCompletions_RequestsAboveRpmLimit_Returns429UntilWindowSlides()
    {
        var time = new FakeTimeProvider();
        await using var sim = await TestSimulator.StartAsync(
            new SimulatorOptions { RequestsPerMinute = 3, LatencyMs = 0, MaxConcurrency = 0 }, time);

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            using var response = await sim.ChatAsync("rpm " + i);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(response.Headers.RetryAfter);
                string message = (await TestSimulator.ReadJsonAsync(response)).GetProperty("error").GetProperty("message").GetString()!;
                Assert.Contains("requests per minute", message);
            }

            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            statuses);
        Assert.Equal(2, sim.Server.GetStats().RateLimited);

        // 60 s after the first accepted request its slot frees up, but only that one.
        time.Advance(TimeSpan.FromSeconds(55));
        using (var response = await sim.ChatAsync("rpm later"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await sim.ChatAsync("rpm later again"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        }
    }

    [Fact]
    public async Task ChatCompletions_FakeClockWithLatency_CompletesOnlyAfterClockAdvances()
    {
        var time = new FakeTimeProvider();
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 10_000 }, time);

        Task<HttpResponseMessage> pending = sim.ChatAsync("slow");
        await WaitUntilAsync(() => sim.Server.GetStats().CurrentConcurrent == 1);
        Assert.False(pending.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(10));
        using HttpResponseMessage response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, sim.Server.GetStats().CurrentConcurrent);
    }

    [Fact]
    public async Task ChatCompletions_ClientAbortsDuringLatency_ReleasesInFlightSlot()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 30_000, MaxConcurrency = 1 });

        using (var cts = new CancellationTokenSource())
        {
            Task<HttpResponseMessage> pending = sim.Http.PostAsync("v1/chat/completions", TestSimulator.ChatBody("abandon me"), cts.Token);
            await WaitUntilAsync(() => sim.Server.GetStats().CurrentConcurrent == 1);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        }

        await WaitUntilAsync(() => sim.Server.GetStats().CurrentConcurrent == 0);
        SimulatorStats stats = sim.Server.GetStats();
        Assert.Equal(1, stats.TotalRequests);
        Assert.Equal(0, stats.Completed);
    }

    [Fact]
    public async Task DisposeAsync_RequestWaitingOutLatency_IsAnswered503()
    {
        var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 30_000 });
        try
        {
            Task<HttpResponseMessage> pending = sim.ChatAsync("still thinking");
            await WaitUntilAsync(() => sim.Server.GetStats().CurrentConcurrent == 1);

            await sim.Server.DisposeAsync();
            using HttpResponseMessage response = await pending;

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(1, sim.Server.GetStats().ServerErrors);
        }
        finally
        {
            await sim.DisposeAsync();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
