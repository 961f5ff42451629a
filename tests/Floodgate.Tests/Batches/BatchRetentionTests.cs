using Floodgate.Batches;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Batches;

/// <summary>Finished batches expire after the retention (two seconds here): every record of theirs leaves storage.</summary>
public sealed class BatchRetentionTests(ShortRetentionFixture fixture) : IClassFixture<ShortRetentionFixture>
{
    [Fact]
    public async Task FinishedBatch_PastRetention_IsGoneFromStorageAndFromTheList()
    {
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = TestItems.Words(fixture.MaxItems), Processor = "echo", Limiter = Unique.Name("acct") });
        var final = await batch.WaitForCompletionAsync();
        Assert.True(fixture.StoredRecords(batch.Id) >= 1 + 3 + 3, $"stored: {fixture.StoredRecords(batch.Id)}");
        Assert.Contains((await fixture.Client.ListBatchesAsync(new BatchListQuery(Limit: BatchListQuery.MaxLimit))).Batches, b => b.BatchId == batch.Id);

        // Nobody calls the batch: its expiry reminder wakes it when the retention has passed.
        await Eventually.TrueAsync(() => Task.FromResult(fixture.StoredRecords(batch.Id) == 0));

        Assert.Equal(BatchState.Completed, final.State);
        await Assert.ThrowsAsync<FloodgateNotFoundException>(() => batch.GetProgressAsync());
        await Eventually.TrueAsync(async () =>
            (await fixture.Client.ListBatchesAsync(new BatchListQuery(Limit: BatchListQuery.MaxLimit))).Batches.All(b => b.BatchId != batch.Id));
    }

    [Fact]
    public async Task RunningBatch_OlderThanTheRetention_StaysUntilItHasFinishedForThatLong()
    {
        var id = Unique.Name("long");
        var gate = GateProcessor.For(id);
        var batch = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = ["""{"hold":true}""", "2"], Processor = GateProcessor.ProcessorName, Limiter = Unique.Name("acct") }, id);
        await Eventually.TrueAsync(() => Task.FromResult(gate.Running == 1));

        // Two retentions pass while it runs: the retention counts from the end, not from the submission.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.Equal(BatchState.Running, (await batch.GetProgressAsync()).State);
        gate.Open();
        var final = await batch.WaitForCompletionAsync();
        await Eventually.TrueAsync(() => Task.FromResult(fixture.StoredRecords(id) == 0));

        Assert.Equal(2, final.Succeeded);
    }

    [Fact]
    public async Task StreamedSubmission_SenderFallsSilent_BatchIsDiscardedAfterTheReceiveTimeout()
    {
        var id = Unique.Name("silent");
        var grain = fixture.Cluster.Client.GetGrain<IBatchGrain>(id);
        var opened = await grain.OpenAsync(new BatchDefinition { Processor = "echo", Limiter = Unique.Name("acct") }, "upload-1");
        await grain.AppendItemsAsync(opened.UploadId!, 0, TestItems.Words(ChunkedBatchFixture.ChunkSize), last: false);
        Assert.True((await grain.GetProgressAsync()).IsReceiving);

        // The sender never sends the rest: the batch's reminder finds it silent and discards it.
        await Eventually.TrueAsync(() => Task.FromResult(fixture.StoredRecords(id) == 0));

        await Assert.ThrowsAsync<FloodgateNotFoundException>(() => grain.GetProgressAsync());
    }

    [Fact]
    public async Task StreamedSubmission_MoreItemsThanTheSiloTakes_RefusedAndDiscarded()
    {
        var id = Unique.Name("toomany");

        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(
            new BatchDefinition { Processor = "echo", Limiter = Unique.Name("acct") },
            TestItems.Words(fixture.MaxItems + 60).ToAsyncEnumerable(),
            id));

        Assert.Contains($"at most {fixture.MaxItems} items (got more)", error.Message);
        Assert.Contains("The batch was discarded", error.Message);
        Assert.Equal(0, fixture.StoredRecords(id));
        await Assert.ThrowsAsync<FloodgateNotFoundException>(() => fixture.Client.GetBatch(id).GetProgressAsync());
    }
}
