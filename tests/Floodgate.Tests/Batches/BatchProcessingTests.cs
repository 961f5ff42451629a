using Floodgate.Batches;
using Floodgate.Client.Batches;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Batches;

/// <summary>Batches end to end through the cluster and the simulator; limits are asserted on the simulator's numbers.</summary>
[Collection(ClusterCollection.Name)]
public sealed class BatchProcessingTests(ClusterFixture fixture)
{
    private static BatchSpec ChatBatch(IReadOnlyList<string> items, string limiter, int localLimit, int? globalLimit = null) => new()
    {
        Items = items,
        Processor = "openai-chat",
        Limiter = limiter,
        LocalLimit = localLimit,
        GlobalLimit = globalLimit,
    };

    private static async Task<List<ItemOutcome>> ReadAllAsync(BatchHandle handle)
    {
        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in handle.ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        return outcomes;
    }

    [Fact]
    public async Task SubmitBatchAsync_LocalSevenGlobalFive_UpstreamSeesAtMostFive()
    {
        fixture.Simulator.ResetStats();
        var handle = await fixture.Client.SubmitBatchAsync(ChatBatch(TestItems.Words(200), Unique.Name("acct"), localLimit: 7, globalLimit: 5));

        var final = await handle.WaitForCompletionAsync();

        var stats = fixture.Simulator.GetStats();
        Assert.Equal(200, final.Succeeded);
        Assert.InRange(stats.MaxConcurrent, 4, 5);
        Assert.Equal(200, stats.Completed);
    }

    [Fact]
    public async Task SubmitBatchAsync_TwoBatchesLocalThreeAndFourUnderGlobalFive_UpstreamSeesAtMostFive()
    {
        fixture.Simulator.ResetStats();
        var limiter = Unique.Name("acct");

        var first = await fixture.Client.SubmitBatchAsync(ChatBatch(TestItems.Words(60, "a"), limiter, localLimit: 3, globalLimit: 5));
        var second = await fixture.Client.SubmitBatchAsync(ChatBatch(TestItems.Words(60, "b"), limiter, localLimit: 4, globalLimit: 5));
        var finals = await Task.WhenAll(first.WaitForCompletionAsync(), second.WaitForCompletionAsync());

        Assert.All(finals, p => Assert.Equal(60, p.Succeeded));
        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 5);
    }

    [Fact]
    public async Task SubmitBatchAsync_LocalLimitBelowGlobal_UpstreamSeesAtMostLocal()
    {
        fixture.Simulator.ResetStats();
        var handle = await fixture.Client.SubmitBatchAsync(ChatBatch(TestItems.Words(60), Unique.Name("acct"), localLimit: 2, globalLimit: 20));

        await handle.WaitForCompletionAsync();

        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 2);
    }

    [Fact]
    public async Task ReadResultsAsync_ItemsWithVaryingDelays_ReturnsInInputOrder()
    {
        var items = Enumerable.Range(0, 40)
            .Select(i => $$"""{"n":{{i}},"delayMs":{{(40 - i) % 7 * 5}}}""")
            .ToList();
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = "delay", LocalLimit = 8, Limiter = Unique.Name("acct") });

        var outcomes = await ReadAllAsync(handle);

        Assert.Equal(Enumerable.Range(0, 40), outcomes.Select(o => o.Position));
        Assert.All(outcomes, o => Assert.Contains($"\"n\":{o.Position},", o.Result));
    }

    [Fact]
    public async Task SubmitBatchAsync_OneItemFailsPermanently_OthersSucceedAndItFailsOnce()
    {
        var items = TestItems.Strings(["alpha", "beta [fail:400]", "gamma", "delta"]);
        var handle = await fixture.Client.SubmitBatchAsync(ChatBatch(items, Unique.Name("acct"), localLimit: 4));

        var final = await handle.WaitForCompletionAsync();
        var outcomes = await ReadAllAsync(handle);

        Assert.Equal(BatchState.Completed, final.State);
        Assert.Equal((3, 1), (final.Succeeded, final.Failed));
        var failed = Assert.Single(outcomes, o => o.Status == ItemStatus.Failed);
        Assert.Equal(1, failed.Position);
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("400", failed.Error);
    }

    [Fact]
    public async Task SubmitBatchAsync_TransientFailuresThenSuccess_RetriesWithBackoff()
    {
        fixture.Simulator.ResetStats();
        var items = TestItems.Strings(["retry-me [fail-first:2:500]", "rate [fail-first:1:429]"]);
        var handle = await fixture.Client.SubmitBatchAsync(ChatBatch(items, Unique.Name("acct"), localLimit: 2));

        var final = await handle.WaitForCompletionAsync();
        var outcomes = await ReadAllAsync(handle);

        Assert.Equal(2, final.Succeeded);
        Assert.Equal([3, 2], outcomes.Select(o => o.Attempts));
        Assert.Equal(3, final.Retries);
        Assert.Equal(1, final.RateLimitHits);
        Assert.Equal(5, fixture.Simulator.GetStats().TotalRequests);
    }

    [Fact]
    public async Task SubmitBatchAsync_RateLimitedByUpstream_HalvesEffectiveLocalLimit()
    {
        var items = TestItems.Strings(["x [fail-first:1:429]", .. Enumerable.Range(0, 7).Select(i => $"y{i}")]);
        var handle = await fixture.Client.SubmitBatchAsync(ChatBatch(items, Unique.Name("acct"), localLimit: 8));

        var final = await handle.WaitForCompletionAsync();

        Assert.Equal(8, final.Succeeded);
        Assert.Equal(4, final.EffectiveLocalLimit);
    }

    [Fact]
    public async Task CancelAsync_WhileRunning_StopsDispatchAndCancelsTheRest()
    {
        var items = Enumerable.Range(0, 50).Select(i => $$"""{"i":{{i}},"delayMs":200}""").ToList();
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = "delay", LocalLimit = 2, Limiter = Unique.Name("acct") });
        await Eventually.TrueAsync(async () => (await handle.GetProgressAsync()).InFlight == 2);

        await handle.CancelAsync();
        var final = await handle.WaitForCompletionAsync();
        var outcomes = await ReadAllAsync(handle);

        Assert.Equal(BatchState.Cancelled, final.State);
        Assert.Equal(50, outcomes.Count);
        Assert.True(final.Cancelled >= 48, $"cancelled {final.Cancelled}");
        Assert.Equal(50, final.Succeeded + final.Failed + final.Cancelled);
        Assert.Equal(0, final.Failed);
    }

    [Fact]
    public async Task SubmitBatchAsync_SameIdempotencyKey_ReturnsSameBatch()
    {
        var spec = new BatchSpec { Items = TestItems.Words(3), IdempotencyKey = Unique.Name("key"), Limiter = Unique.Name("acct") };

        var first = await fixture.Client.SubmitBatchAsync(spec);
        var second = await fixture.Client.SubmitBatchAsync(spec);
        await first.WaitForCompletionAsync();

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(3, (await second.GetProgressAsync()).Succeeded);
    }

    [Fact]
    public async Task WatchAsync_RunningBatch_StreamsIncreasingProgressUntilFinished()
    {
        var items = Enumerable.Range(0, 20).Select(i => $$"""{"i":{{i}},"delayMs":20}""").ToList();
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = "delay", LocalLimit = 3, Limiter = Unique.Name("acct") });

        var seen = new List<BatchProgress>();
        await foreach (var progress in handle.WatchAsync())
        {
            seen.Add(progress);
        }

        Assert.True(seen.Count >= 2);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Done <= p.Second.Done && p.First.Version < p.Second.Version));
        Assert.Equal(20, seen[^1].Succeeded);
        Assert.True(seen.All(p => p.InFlight <= 3));
    }

    [Fact]
    public async Task SubmitBatchAsync_ConflictingGlobalLimit_KeepsFirstAndWarns()
    {
        var limiter = Unique.Name("acct");
        await (await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = TestItems.Words(1), Limiter = limiter, GlobalLimit = 4 })).WaitForCompletionAsync();

        var second = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = TestItems.Words(1), Limiter = limiter, GlobalLimit = 9 });

        Assert.Contains(second.Submitted!.Warnings, w => w.Contains("not applied"));
        Assert.Equal(4, (await fixture.Client.GetLimiterStatusAsync(limiter)).MaxConcurrency);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("local-zero")]
    [InlineData("local-negative")]
    public async Task SubmitBatchAsync_InvalidSpec_ThrowsBeforeCreatingAnything(string problem)
    {
        var spec = problem switch
        {
            "empty" => new BatchSpec { Items = [] },
            "local-zero" => new BatchSpec { Items = TestItems.Words(1), LocalLimit = 0 },
            _ => new BatchSpec { Items = TestItems.Words(1), LocalLimit = -3 },
        };
        var id = Unique.Name("bad");

        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(spec, id));

        await Assert.ThrowsAsync<FloodgateNotFoundException>(() => fixture.Client.GetBatch(id).GetProgressAsync());
    }

    [Fact]
    public async Task SubmitAsync_UnknownProcessor_RejectedBySiloAndNothingCreated()
    {
        var id = Unique.Name("bad");
        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(id);

        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() =>
            grain.OpenAsync(new BatchDefinition { Processor = "no-such-processor" }, "upload-1", expectedItems: 1));

        Assert.Contains("Unknown processor 'no-such-processor'", error.Message);
        Assert.Contains("echo", error.Message);
        await Assert.ThrowsAsync<FloodgateNotFoundException>(() => grain.GetProgressAsync());
    }

    [Fact]
    public async Task SubmitAsync_BadProcessorOption_RejectedBySilo()
    {
        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(
            new BatchSpec { Items = TestItems.Words(1), Processor = "delay", ProcessorOptions = new Dictionary<string, string> { ["delayMs"] = "soon" } }));

        Assert.Contains("delayMs", error.Message);
    }

    [Fact]
    public async Task GetProgressAsync_UnknownBatch_ThrowsNotFound()
    {
        var error = await Assert.ThrowsAsync<FloodgateNotFoundException>(() => fixture.Client.GetBatch("does-not-exist").GetProgressAsync());

        Assert.Equal("does-not-exist", error.Id);
    }
}
