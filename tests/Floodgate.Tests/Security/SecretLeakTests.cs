using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Security;

/// <summary>The upstream API key is used for every call but must never show up anywhere a user or operator can see.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SecretLeakTests(ClusterFixture fixture)
{
    [Fact]
    public async Task UpstreamApiKey_AfterSuccessesAndFailures_AppearsInNoOutcomeStatusOrLog()
    {
        var limiter = Unique.Name("acct");
        var items = TestItems.Strings(["fine", "denied [fail:401]", "broken [fail:500]", "throttled [fail:429]"]);
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = "openai-chat", Limiter = limiter, LocalLimit = 4 });

        var final = await handle.WaitForCompletionAsync();
        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in handle.ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        // The key did reach the upstream: the simulator answers 401 without it.
        Assert.Equal(ItemStatus.Succeeded, outcomes[0].Status);
        Assert.True(final.Failed >= 2);
        var visible = string.Join(
            "\n",
            JsonSerializer.Serialize(outcomes),
            JsonSerializer.Serialize(final),
            JsonSerializer.Serialize(await fixture.Client.GetLimiterStatusAsync(limiter)),
            JsonSerializer.Serialize(await fixture.Client.GetBreakerStatusAsync(limiter)),
            string.Join("\n", fixture.Logs.Lines));
        Assert.DoesNotContain(ClusterFixture.UpstreamApiKey, visible);
        Assert.DoesNotContain(ClusterFixture.UpstreamApiKey[^12..], visible);
    }
}
