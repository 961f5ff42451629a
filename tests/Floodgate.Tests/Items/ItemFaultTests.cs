using Floodgate.Batches;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Items;

/// <summary>No item fails because a silo died or a limiter moved: cluster faults are retried, not counted as attempts.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ItemFaultTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Items_LimiterAndBreakerCallsRejectedByADeadSilo_AllSucceedAtTheFirstAttempt()
    {
        var name = FaultInjectionFilter.FlakyPrefix + Unique.Name("acct");
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = TestItems.Words(8),
            Processor = "echo",
            Limiter = name,
            LocalLimit = 4,
        });

        var final = await handle.WaitForCompletionAsync();
        var outcomes = await handle.ReadResultsAsync().ToListAsync();

        Assert.Equal(8, final.Succeeded);
        Assert.All(outcomes, o => Assert.Equal(1, o.Attempts));
        Assert.Equal(0, (await fixture.Client.GetLimiterStatusAsync(name)).InUse);
    }
}
