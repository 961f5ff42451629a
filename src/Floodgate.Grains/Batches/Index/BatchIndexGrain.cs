using Floodgate.Batches;
using Floodgate.Grains.Limiting;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Batches.Index;

/// <summary>What a batch tells the list of batches (grain-to-grain protocol, key: <see cref="IBatchIndexGrain.Key"/>).</summary>
[Alias("Floodgate.IBatchIndexUpdates")]
internal interface IBatchIndexUpdates : IGrainWithStringKey
{
    /// <summary>The batch's entry as of now; returns once it is durable.</summary>
    [Alias("Upsert")]
    Task UpsertAsync(BatchSummary summary);

    /// <summary>The batch is gone (expired or discarded); returns once that is durable.</summary>
    [Alias("Remove")]
    Task RemoveAsync(string batchId);
}

/// <summary>The list of batches' stored form.</summary>
[GenerateSerializer, Alias("Floodgate.BatchIndexRecord")]
public sealed class BatchIndexRecord
{
    [Id(0)] public List<BatchSummary> Entries { get; set; } = [];
}

/// <summary>
/// The list of batches: batches report their changes of state (created, cancelling, finished, retried, gone) and the
/// list serves pages of summaries. Changes are group-committed: one write at a time, shared by every change that
/// arrives meanwhile. Bounded by <see cref="BatchOptions.IndexCapacity"/>.
/// </summary>
internal sealed class BatchIndexGrain : Grain, IBatchIndexGrain, IBatchIndexUpdates
{
    private readonly IPersistentState<BatchIndexRecord> _record;
    private readonly BatchIndex _index;
    private readonly GroupCommit _commit;

    public BatchIndexGrain([PersistentState("batch-index")] IPersistentState<BatchIndexRecord> record, IOptions<BatchOptions> options)
    {
        _record = record;
        _index = new BatchIndex(options.Value.IndexCapacity);
        _commit = new GroupCommit(WriteAsync);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The record is read before activation, not before construction.
        foreach (var entry in _record.State.Entries)
        {
            _index.Upsert(entry);
        }

        return Task.CompletedTask;
    }

    public Task<BatchListPage> ListAsync(BatchListQuery query) => Task.FromResult(_index.List(query));

    public Task UpsertAsync(BatchSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return _index.Upsert(summary) ? _commit.FlushAsync() : Task.CompletedTask;
    }

    public Task RemoveAsync(string batchId) => _index.Remove(batchId) ? _commit.FlushAsync() : Task.CompletedTask;

    private Task WriteAsync()
    {
        _record.State = new BatchIndexRecord { Entries = [.. _index.Entries] };
        return _record.WriteStateAsync();
    }
}
