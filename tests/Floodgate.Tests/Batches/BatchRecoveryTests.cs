using Floodgate.Batches;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Batches;

/// <summary>A batch whose activation is lost mid-run resumes from its checkpoint: every item still gets exactly one outcome.</summary>
[Collection(ClusterCollection.Name)]
public sealed class BatchRecoveryTests(ClusterFixture fixture)
{
    private static BatchSpec DelayBatch(int count, int localLimit) => new()
    {
        Items = Enumerable.Range(0, count).Select(i => $$"""{"i":{{i}},"delayMs":40}""").ToList(),
        Processor = "delay",
        LocalLimit = localLimit,
        Limiter = Unique.Name("acct"),
    };

    [Fact]
    public async Task Deactivation_MidRun_BatchResumesAndEveryItemEndsOnce()
    {
        var handle = await fixture.Client.SubmitBatchAsync(DelayBatch(60, 4));
        await Eventually.TrueAsync(async () => (await handle.GetProgressAsync()).Done >= 10);

        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(handle.Id);
        await fixture.Cluster.DeactivateAsync(grain);
        await fixture.Cluster.WaitForDeactivationAsync(grain);

        var seen = new List<BatchProgress>();
        await foreach (var progress in handle.WatchAsync())
        {
            seen.Add(progress);
        }

        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in handle.ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        Assert.Equal(BatchState.Completed, seen[^1].State);
        Assert.Equal(60, seen[^1].Succeeded);
        Assert.Equal(Enumerable.Range(0, 60), outcomes.Select(o => o.Position));
        Assert.All(outcomes, o => Assert.Contains($"\"i\":{o.Position},", o.Result));
        Assert.All(seen, p => Assert.InRange(p.InFlight, 0, 4));
    }

    [Fact]
    public async Task Deactivation_AfterCancel_BatchFinishesCancelled()
    {
        var handle = await fixture.Client.SubmitBatchAsync(DelayBatch(40, 2));
        await Eventually.TrueAsync(async () => (await handle.GetProgressAsync()).InFlight == 2);
        await handle.CancelAsync();

        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(handle.Id);
        await fixture.Cluster.DeactivateAsync(grain);
        await fixture.Cluster.WaitForDeactivationAsync(grain);
        var final = await handle.WaitForCompletionAsync();

        Assert.Equal(BatchState.Cancelled, final.State);
        Assert.Equal(40, final.Succeeded + final.Failed + final.Cancelled);
    }
}
