using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Breakers;

[Collection(ClusterCollection.Name)]
public sealed class SharedBreakerTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Items_AfterThresholdFailures_OpenCircuitStopsCallsFromEverySilo()
    {
        var limiter = Unique.Name("acct");
        var failing = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = TestItems.Strings(Enumerable.Range(0, 4).Select(i => $"down{i} [fail:500]")),
            Processor = "openai-chat",
            Limiter = limiter,
            LocalLimit = 1,
        });
        var failed = await failing.WaitForCompletionAsync();

        var breaker = await fixture.Client.GetBreakerStatusAsync(limiter);
        Assert.Equal(4, failed.Failed);
        Assert.Equal(CircuitState.Open, breaker.State);

        // Items of a new batch land on both silos; every one of them must see the same open circuit.
        fixture.Simulator.ResetStats();
        var blocked = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = TestItems.Words(10),
            Processor = "openai-chat",
            Limiter = limiter,
            LocalLimit = 10,
        });
        var final = await blocked.WaitForCompletionAsync();
        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in blocked.ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        Assert.Equal(10, final.Failed);
        Assert.All(outcomes, o => Assert.Contains("is open", o.Error));
        Assert.True(final.BreakerRejections >= 10);
        Assert.Equal(0, fixture.Simulator.GetStats().TotalRequests);
        // An open circuit holds no permits: only the three calls that tripped it were ever granted.
        Assert.Equal(3, (await fixture.Client.GetLimiterStatusAsync(limiter)).Grants);
    }

    [Fact]
    public async Task Items_BreakerReportFails_StillSucceedAndReleaseEveryPermit()
    {
        var limiter = Unique.Name("acct");
        var breaker = FaultInjectionFilter.FaultyBreakerPrefix + Guid.NewGuid().ToString("N")[..12];
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = TestItems.Words(12),
            Processor = "delay",
            ProcessorOptions = new Dictionary<string, string> { ["delayMs"] = "10" },
            Limiter = limiter,
            Breaker = breaker,
            LocalLimit = 4,
        });

        var final = await handle.WaitForCompletionAsync();

        Assert.Equal(12, final.Succeeded);
        var status = await fixture.Client.GetLimiterStatusAsync(limiter);
        Assert.Equal((0, 12L), (status.InUse, status.Grants));
        Assert.Contains(fixture.Logs.Lines, line => line.Contains($"Could not report a call result to breaker {breaker}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResetAsync_OpenCircuit_LetsCallsThroughAgain()
    {
        var name = Unique.Name("brk");
        var breaker = fixture.Cluster.Client.GetGrain<ICircuitBreakerGrain>(name);
        for (var i = 0; i < 3; i++)
        {
            await breaker.ReportAsync(CallResult.Failure, wasProbe: false);
        }

        Assert.False((await breaker.TryPassAsync()).Allowed);
        await breaker.ResetAsync();

        Assert.True((await breaker.TryPassAsync()).Allowed);
    }
}
