using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Batches;
using Floodgate.Processors.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Processors.Tests;

/// <summary>The shared single-flight cache through the cluster: counted at the simulator, not by Floodgate.</summary>
[Collection(ProcessorCollection.Name)]
public sealed class CacheTests(ProcessorCluster fixture)
{
    [Fact]
    public async Task TwoConcurrentBatches_SameWords_CostOneUpstreamCallPerDistinctWord()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var words = Enumerable.Range(0, 12).Select(i => $"word{i % 4}-{run}").ToList(); // 4 distinct words, 3 times each
        BatchSpec Spec(IEnumerable<string> items) => new()
        {
            Items = items.Select(w => JsonSerializer.Serialize(new { word = w })).ToList(),
            Processor = "openai-chat",
            ProcessorOptions = new Dictionary<string, string> { ["template"] = "Define {word}", ["cache"] = "true" },
            Limiter = Unique.Name("cache"),
            LocalLimit = 12,
        };

        var before = fixture.Simulator.GetStats().TotalRequests;
        var first = await fixture.Client.SubmitBatchAsync(Spec(words));
        var second = await fixture.Client.SubmitBatchAsync(Spec(words.AsEnumerable().Reverse().Select(w => $"  {w} ")));
        var outcomes = (await ReadAsync(first)).Concat(await ReadAsync(second)).ToList();

        Assert.All(outcomes, o => Assert.Equal(ItemStatus.Succeeded, o.Status));
        Assert.Equal(4, fixture.Simulator.GetStats().TotalRequests - before);
        Assert.Equal(20, outcomes.Count(o => o.Cached));
        Assert.All(outcomes.Where(o => o.Cached), o => Assert.Equal(0, o.Attempts));
        Assert.Single(outcomes.Select(o => o.Result).Where(r => r!.Contains($"word0-{run}")).Distinct());
    }

    [Fact]
    public async Task WithoutCacheOption_IdenticalItemsEachCallUpstream()
    {
        var word = "uncached-" + Guid.NewGuid().ToString("N")[..8];
        var before = fixture.Simulator.GetStats().TotalRequests;
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = [JsonSerializer.Serialize(word), JsonSerializer.Serialize(word)], Processor = "openai-chat", Limiter = Unique.Name("nocache"),
        });
        var outcomes = await ReadAsync(handle);

        Assert.Equal(2, fixture.Simulator.GetStats().TotalRequests - before);
        Assert.DoesNotContain(outcomes, o => o.Cached);
    }

    [Fact]
    public async Task FailedLeader_IsNotCached_NextIdenticalItemCallsAgain()
    {
        var item = JsonSerializer.Serialize($"flaky-{Guid.NewGuid():N} [fail:400]");
        BatchSpec Spec() => new()
        {
            Items = [item], Processor = "openai-chat", ProcessorOptions = new Dictionary<string, string> { ["cache"] = "true" }, Limiter = Unique.Name("cachefail"),
        };

        var before = fixture.Simulator.GetStats().TotalRequests;
        var first = await ReadAsync(await fixture.Client.SubmitBatchAsync(Spec()));
        var second = await ReadAsync(await fixture.Client.SubmitBatchAsync(Spec()));

        Assert.Equal(ItemStatus.Failed, first[0].Status);
        Assert.Equal(ItemStatus.Failed, second[0].Status);
        Assert.Equal(2, fixture.Simulator.GetStats().TotalRequests - before);
    }

    [Fact]
    public async Task Submit_CacheOptionNotABoolean_IsRejected()
    {
        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = ["\"x\""], Processor = "echo", ProcessorOptions = new Dictionary<string, string> { ["cache"] = "yes" },
        }));

        Assert.Contains(error.Errors, e => e.Contains("cache must be true or false"));
    }

    private static async Task<List<ItemOutcome>> ReadAsync(BatchHandle handle)
    {
        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in handle.ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        return outcomes;
    }
}
