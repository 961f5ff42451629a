using System.Runtime.CompilerServices;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client.Batches;
using Floodgate.Grains.Batches;
using Floodgate.Grains.Batches.Chunks;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Batches;

/// <summary>
/// Batches stored in chunks (50 items each here): streamed submission, dispatch while items still arrive, bounded
/// writes, readers at any position, retry of failed items, the list of batches, eviction, and every kind of bad input
/// to these entry points changing nothing.
/// </summary>
public sealed class ChunkedBatchTests(ChunkedBatchFixture fixture) : IClassFixture<ChunkedBatchFixture>
{
    private static BatchDefinition Echo(string? limiter = null, int localLimit = 16) =>
        new() { Processor = "echo", Limiter = limiter ?? Unique.Name("acct"), LocalLimit = localLimit };

    private static async IAsyncEnumerable<string> Items(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return JsonSerializer.Serialize($"item-{i}");
            if (i % 100 == 99)
            {
                await Task.Yield();
            }
        }
    }

    private static async Task<List<ItemOutcome>> ReadAllAsync(BatchHandle batch, int from = 0)
    {
        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in batch.ReadResultsAsync(from))
        {
            outcomes.Add(outcome);
        }

        return outcomes;
    }

    [Fact]
    public async Task SubmitBatchAsync_Stream_RunsWhileItemsStillArriveAndResultsComeInOrder()
    {
        var id = Unique.Name("stream");
        BatchProgress? seenWhileReceiving = null;

        // The source stops after 120 items until the batch has finished some: dispatch must not wait for the last chunk.
        async IAsyncEnumerable<string> Source()
        {
            for (var i = 0; i < 300; i++)
            {
                if (i == 120)
                {
                    await Eventually.TrueAsync(async () => (seenWhileReceiving = await fixture.Client.GetBatch(id).GetProgressAsync()).Succeeded > 0);
                }

                yield return JsonSerializer.Serialize($"item-{i}");
            }
        }

        var batch = await fixture.Client.SubmitBatchAsync(Echo(), Source(), id);
        await batch.WaitForCompletionAsync();
        var outcomes = await ReadAllAsync(batch);

        Assert.True(seenWhileReceiving!.IsReceiving);
        Assert.Equal(Enumerable.Range(0, 300), outcomes.Select(o => o.Position));
        Assert.All(outcomes, o => Assert.Equal($"\"item-{o.Position}\"", o.Result));
        Assert.Equal(300, (await batch.GetProgressAsync()).Total);
    }

    [Fact]
    public async Task SubmitBatchAsync_List_StoresItemsInChunksOfTheConfiguredSize()
    {
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec(Echo()) { Items = TestItems.Words(120) });
        await batch.WaitForCompletionAsync();

        var itemChunks = fixture.Store.Keys.Where(k => k.EndsWith("/batch/" + batch.Id, StringComparison.Ordinal) && k.StartsWith("batch-items-", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(["batch-items-0", "batch-items-1", "batch-items-2"], itemChunks.Select(k => k[..k.IndexOf('/')]));
        Assert.Equal(3, fixture.Storage.WritesOf(batch.Id).Count(w => w.StateName.StartsWith("batch-items-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Deactivation_MidRunAcrossManyChunks_EveryItemEndsOnceInOrder()
    {
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = Enumerable.Range(0, 400).Select(i => $$"""{"i":{{i}},"delayMs":10}""").ToList(),
            Processor = "delay",
            LocalLimit = 8,
            Limiter = Unique.Name("acct"),
        });
        await Eventually.TrueAsync(async () => (await batch.GetProgressAsync()).Done >= 100);

        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(batch.Id);
        await fixture.Cluster.DeactivateAsync(grain);
        await fixture.Cluster.WaitForDeactivationAsync(grain);
        var final = await batch.WaitForCompletionAsync();
        var outcomes = await ReadAllAsync(batch);

        Assert.Equal(400, final.Succeeded);
        Assert.Equal(Enumerable.Range(0, 400), outcomes.Select(o => o.Position));
        Assert.All(outcomes, o => Assert.Contains($"\"i\":{o.Position},", o.Result));
    }

    [Fact]
    public async Task Writes_RecordStaysSmallAndEachWriteIsOneChunkWhateverTheBatchSize()
    {
        var small = await fixture.Client.SubmitBatchAsync(Echo(localLimit: 64), Items(100));
        await small.WaitForCompletionAsync();
        var large = await fixture.Client.SubmitBatchAsync(Echo(localLimit: 64), Items(5_000));
        await large.WaitForCompletionAsync();

        var fullChunk = fixture.Serializer.SerializeToArray(new OutcomeChunk
        {
            Outcomes = Enumerable.Range(0, ChunkedBatchFixture.ChunkSize).Select(p => (ItemOutcome?)ItemOutcome.Succeeded(p, JsonSerializer.Serialize($"item-{p + 4950}"), 1)).ToArray(),
        }).Length;
        int MaxRecord(BatchHandle b) => fixture.Storage.WritesOf(b.Id).Where(w => w.StateName == "batch-state").Max(w => w.Bytes);
        var largeWrites = fixture.Storage.WritesOf(large.Id);
        var outcomeWrites = largeWrites.Where(w => w.StateName.StartsWith("batch-outcomes-", StringComparison.Ordinal)).ToList();

        // The record is counters and cursors: 50× the items, the same size (give or take a few bytes of larger numbers).
        Assert.InRange(MaxRecord(large), 1, MaxRecord(small) + 16);
        Assert.All(outcomeWrites, w => Assert.InRange(w.Bytes, 1, fullChunk + 64));
        Assert.Equal(5_000 / ChunkedBatchFixture.ChunkSize, outcomeWrites.Select(w => w.StateName).Distinct().Count());
    }

    [Fact]
    public async Task ReadResults_MillionItemBatch_PagesFromAnyPositionReadingOnlyTheChunksItNeeds()
    {
        const int total = 1_000_000;
        const int chunkSize = 1_000;
        var id = Unique.Name("million");
        await StoredBatches.WriteFinishedAsync(fixture.Storage, id, total, chunkSize);
        fixture.Storage.Reset();
        var batch = fixture.Client.GetBatch(id);

        foreach (var from in new[] { 0, 999_999, 500_000, 123_456, 998_765 })
        {
            var outcomes = new List<ItemOutcome>();
            await foreach (var outcome in batch.ReadResultsAsync(from))
            {
                outcomes.Add(outcome);
                if (outcomes.Count == 1_500)
                {
                    break;
                }
            }

            var expected = Math.Min(1_500, total - from);
            Assert.Equal(Enumerable.Range(from, expected), outcomes.Select(o => o.Position));
            Assert.All(outcomes, o => Assert.Equal(StoredBatches.Result(o.Position), o.Result));
        }

        var progress = await batch.GetProgressAsync();
        var chunkReads = fixture.Storage.ReadsOf(id).Count(s => s.StartsWith("batch-outcomes-", StringComparison.Ordinal));
        Assert.Equal((BatchState.Completed, total, total), (progress.State, progress.Total, progress.Succeeded));
        Assert.InRange(chunkReads, 5, 20);
    }

    [Fact]
    public async Task RetryFailedAsync_FailedItems_RunAgainInPlaceAndResultsStayOrdered()
    {
        var items = Enumerable.Range(0, 130).Select(i => i % 40 == 7 ? """{"failFirst":true}""" : $$"""{"i":{{i}}}""").ToList();
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = FlakyProcessor.ProcessorName, LocalLimit = 8, Limiter = Unique.Name("acct") });
        var first = await batch.WaitForCompletionAsync();
        var before = await ReadAllAsync(batch);

        var retrying = await batch.RetryFailedAsync();
        var final = await batch.WaitForCompletionAsync();
        var after = await ReadAllAsync(batch);

        Assert.Equal((126, 4), (first.Succeeded, first.Failed));
        Assert.Equal(BatchState.Running, retrying.State);
        Assert.Equal((130, 0, 1), (final.Succeeded, final.Failed, final.RetryRounds));
        Assert.Equal(Enumerable.Range(0, 130), after.Select(o => o.Position));
        Assert.All(before.Zip(after), pair =>
        {
            // Outcomes that succeeded stay as they were; the failed ones now hold the second run's result.
            if (pair.First.Status == ItemStatus.Succeeded)
            {
                Assert.Equal(pair.First, pair.Second);
            }
            else
            {
                Assert.Contains("\"run\":2", pair.Second.Result);
            }
        });
    }

    [Fact]
    public async Task RetryFailedAsync_RunningBatchOrNoFailures_ConflictAndNothingChanges()
    {
        var gated = Unique.Name("gated");
        var running = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = ["""{"hold":true}"""], Processor = GateProcessor.ProcessorName, Limiter = Unique.Name("acct") }, gated);
        var clean = await fixture.Client.SubmitBatchAsync(new BatchSpec(Echo()) { Items = TestItems.Words(3) });
        await clean.WaitForCompletionAsync();

        var whileRunning = await Assert.ThrowsAsync<FloodgateConflictException>(() => running.RetryFailedAsync());
        var withoutFailures = await Assert.ThrowsAsync<FloodgateConflictException>(() => clean.RetryFailedAsync());
        GateProcessor.For(gated).Open();

        Assert.Contains("still running", whileRunning.Message);
        Assert.Contains("has no failed items", withoutFailures.Message);
        Assert.Equal((BatchState.Completed, 0), ((await clean.GetProgressAsync()).State, (await clean.GetProgressAsync()).RetryRounds));
    }

    [Fact]
    public async Task ListBatchesAsync_PagesNewestFirstAndFiltersByState()
    {
        var limiter = Unique.Name("list");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var done = await fixture.Client.SubmitBatchAsync(new BatchSpec(Echo(limiter)) { Items = TestItems.Words(2) });
            await done.WaitForCompletionAsync();
            ids.Add(done.Id);
        }

        var gated = Unique.Name("listgate");
        await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = ["""{"hold":true}"""], Processor = GateProcessor.ProcessorName, Limiter = limiter }, gated);
        ids.Add(gated);

        // The list is cluster-wide: page through all of it and keep this test's batches.
        var seen = new List<BatchSummary>();
        List<BatchSummary>? running = null;
        await Eventually.TrueAsync(async () =>
        {
            seen = await ListAllAsync(new BatchListQuery(Limit: 2));
            running = await ListAllAsync(new BatchListQuery(BatchState.Running, Limit: 2));
            return ids.All(id => seen.Any(s => s.BatchId == id)) && seen.Single(s => s.BatchId == ids[0]).State == BatchState.Completed;
        });
        GateProcessor.For(gated).Open();

        var mine = seen.Where(s => ids.Contains(s.BatchId)).ToList();
        Assert.Equal(Enumerable.Reverse(ids), mine.Select(s => s.BatchId));
        Assert.Equal(seen.Count, seen.Select(s => s.BatchId).Distinct().Count());
        Assert.Equal([gated], running!.Where(s => ids.Contains(s.BatchId)).Select(s => s.BatchId));
        Assert.All(mine.Take(5).Skip(1), s => Assert.Equal((BatchState.Completed, 2, 2), (s.State, s.Total, s.Succeeded)));
    }

    [Fact]
    public async Task FinishedBatch_IdleForItsTimeout_LeavesMemoryAndIsReadFromStorageWhenAsked()
    {
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec(Echo()) { Items = TestItems.Words(75) });
        await batch.WaitForCompletionAsync();

        await Eventually.TrueAsync(async () => !await IsActiveAsync(batch.Id));
        var outcomes = await ReadAllAsync(batch, from: 60);

        Assert.Equal(Enumerable.Range(60, 15), outcomes.Select(o => o.Position));
        Assert.Equal(BatchState.Completed, (await batch.GetProgressAsync()).State);
    }

    [Fact]
    public async Task SubmitBatchAsync_InvalidItemMidStream_ThrowsNamingItAndNothingOfTheBatchStays()
    {
        var id = Unique.Name("bad");

        async IAsyncEnumerable<string> Source()
        {
            await foreach (var item in Items(75))
            {
                yield return item;
            }

            yield return "{not json";
            yield return "\"after\"";
        }

        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(Echo(), Source(), id));

        Assert.Equal("Item 75 is not valid JSON.", error.Message);
        await AssertGoneAsync(id);
    }

    [Fact]
    public async Task SubmitBatchAsync_SourceFailsMidStream_RethrowsAndNothingOfTheBatchStays()
    {
        var id = Unique.Name("broken");

        async IAsyncEnumerable<string> Source()
        {
            await foreach (var item in Items(130))
            {
                yield return item;
            }

            throw new IOException("disk went away");
        }

        var error = await Assert.ThrowsAsync<IOException>(() => fixture.Client.SubmitBatchAsync(Echo(), Source(), id));

        Assert.Equal("disk went away", error.Message);
        await AssertGoneAsync(id);
    }

    [Fact]
    public async Task SubmitBatchAsync_CancelledMidStream_NothingOfTheBatchStays()
    {
        var id = Unique.Name("cancelled");
        using var cancel = new CancellationTokenSource();

        async IAsyncEnumerable<string> Source([EnumeratorCancellation] CancellationToken ct = default)
        {
            await foreach (var item in Items(120, ct))
            {
                yield return item;
            }

            await cancel.CancelAsync();
            ct.ThrowIfCancellationRequested();
            yield return "\"never\"";
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Client.SubmitBatchAsync(Echo(), Source(), id, cancel.Token));

        await AssertGoneAsync(id);
    }

    [Fact]
    public async Task SubmitBatchAsync_EmptyStreamOrNullItems_RefusedBeforeAnythingIsCreated()
    {
        var id = Unique.Name("empty");

        var empty = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(Echo(), Items(0), id));
        var nullItems = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(Echo(), null!, id));
        var badDefinition = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(Echo() with { LocalLimit = 0 }, Items(3), id));

        Assert.Equal(BatchSpecValidator.NoItems, empty.Message);
        Assert.Contains("must not be null", nullItems.Message);
        Assert.Contains("Local limit", badDefinition.Message);
        await AssertGoneAsync(id);
    }

    [Fact]
    public async Task OpenAsync_MoreItemsThanTheSiloTakes_RefusedBeforeAnythingIsCreated()
    {
        var id = Unique.Name("toomany");
        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(id);

        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.OpenAsync(Echo(), "upload-1", fixture.MaxItems + 1));

        Assert.Contains($"at most {fixture.MaxItems} items", error.Message);
        await AssertGoneAsync(id);
    }

    [Fact]
    public async Task AppendItemsAsync_ChunkOutOfOrderOrWrongSizeOrWrongUpload_RefusedAndTheBatchStaysAsItWas()
    {
        var id = Unique.Name("proto");
        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(id);
        var opened = await grain.OpenAsync(Echo(), "upload-1");
        var chunk = TestItems.Words(ChunkedBatchFixture.ChunkSize);

        // The same submission opening again (a lost answer) goes on; another one finds the batch and sends nothing.
        Assert.Equal("upload-1", (await grain.OpenAsync(Echo(), "upload-1")).UploadId);
        Assert.Null((await grain.OpenAsync(Echo(), "upload-2")).UploadId);

        var outOfOrder = await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.AppendItemsAsync(opened.UploadId!, 1, chunk, false));
        var short_ = await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.AppendItemsAsync(opened.UploadId!, 0, TestItems.Words(3), false));
        var empty = await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.AppendItemsAsync(opened.UploadId!, 0, [], true));
        var stranger = await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.AppendItemsAsync("someone-else", 0, chunk, true));
        await grain.AppendItemsAsync(opened.UploadId!, 0, chunk, false);
        await grain.AppendItemsAsync(opened.UploadId!, 0, chunk, false);
        var progress = await grain.AppendItemsAsync(opened.UploadId!, 1, TestItems.Words(2), true);

        Assert.Contains("chunk 0 is next", outOfOrder.Message);
        Assert.Contains($"exactly {ChunkedBatchFixture.ChunkSize} items", short_.Message);
        Assert.Contains("at least one item", empty.Message);
        Assert.Contains("not receiving items under this upload id", stranger.Message);
        Assert.Equal((ChunkedBatchFixture.ChunkSize + 2, false), (progress.Total, progress.IsReceiving));
        await Assert.ThrowsAsync<FloodgateConflictException>(() => grain.AppendItemsAsync(opened.UploadId!, 2, chunk, true));
    }

    [Fact]
    public async Task ReadResultsAsync_BadPositionOrPageSize_Refused()
    {
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec(Echo()) { Items = TestItems.Words(3) });
        await batch.WaitForCompletionAsync();
        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(batch.Id);

        await Assert.ThrowsAsync<FloodgateValidationException>(async () => await batch.ReadResultsAsync(-1).GetAsyncEnumerator().MoveNextAsync());
        var beyond = await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.ReadResultsAsync(4, 10, TimeSpan.Zero));
        await Assert.ThrowsAsync<FloodgateValidationException>(() => grain.ReadResultsAsync(0, 0, TimeSpan.Zero));

        Assert.Contains("between 0 and 3", beyond.Message);
        Assert.True((await grain.ReadResultsAsync(3, 10, TimeSpan.Zero)).IsComplete);
    }

    [Fact]
    public async Task ListBatchesAsync_BadQuery_RefusedBeforeAnythingIsAsked()
    {
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.ListBatchesAsync(new BatchListQuery(Limit: 0)));
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.ListBatchesAsync(new BatchListQuery(After: "not-a-cursor")));
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.ListBatchesAsync(new BatchListQuery((BatchState)42)));
    }

    private async Task<List<BatchSummary>> ListAllAsync(BatchListQuery query)
    {
        var all = new List<BatchSummary>();
        for (var page = await fixture.Client.ListBatchesAsync(query); ; page = await fixture.Client.ListBatchesAsync(query with { After = page.Next }))
        {
            all.AddRange(page.Batches);
            if (page.Next is null)
            {
                return all;
            }
        }
    }

    private async Task<bool> IsActiveAsync(string batchId)
    {
        var stats = await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.Any(s => s.GrainId.ToString() == $"batch/{batchId}");
    }

    private async Task AssertGoneAsync(string batchId)
    {
        await Assert.ThrowsAsync<FloodgateNotFoundException>(() => fixture.Client.GetBatch(batchId).GetProgressAsync());
        Assert.Equal(0, fixture.StoredRecords(batchId));
    }
}
