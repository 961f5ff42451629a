using Floodgate.Batches;
using Orleans.Storage;

namespace Floodgate.Grains.Batches.Chunks;

/// <summary>
/// The storage records of one batch's chunks, next to its own record in the silo's grain storage: items chunk
/// <c>k</c> under state name <c>batch-items-k</c> and outcomes chunk <c>k</c> under <c>batch-outcomes-k</c>, both keyed by
/// the batch's grain id (Redis: <c>{serviceId}/state/batch/{id}/batch-items-k</c>). Every write and delete is
/// ETag-checked, so an activation that is no longer the batch's only one learns it from the first conflict.
/// </summary>
internal sealed class ChunkStorage(IGrainStorage storage, GrainId batch)
{
    public const string ItemsStatePrefix = "batch-items-";
    public const string OutcomesStatePrefix = "batch-outcomes-";

    public GrainId Batch { get; } = batch;

    /// <summary>The items chunk, or null when it was never written.</summary>
    public async Task<ItemChunk?> ReadItemsAsync(int chunk)
    {
        var state = new GrainState<ItemChunk>();
        await storage.ReadStateAsync(ItemsStatePrefix + chunk, Batch, state);
        return state.RecordExists ? state.State : null;
    }

    /// <summary>Writes an items chunk that is not in storage yet (an <see cref="InconsistentStateException"/> if it is).</summary>
    public Task WriteItemsAsync(int chunk, ItemChunk items) =>
        storage.WriteStateAsync(ItemsStatePrefix + chunk, Batch, new GrainState<ItemChunk>(items, null));

    /// <summary>The outcomes chunk with its ETag; an empty chunk (and no ETag) when it was never written.</summary>
    public async Task<StoredOutcomes> ReadOutcomesAsync(int chunk, int chunkSize)
    {
        var state = new GrainState<OutcomeChunk>();
        await storage.ReadStateAsync(OutcomesStatePrefix + chunk, Batch, state);
        var outcomes = state.RecordExists && state.State?.Outcomes.Length == chunkSize ? state.State.Outcomes : new ItemOutcome?[chunkSize];

        // A provider that clears without deleting keeps an ETag for an empty record: the next write must name it.
        return new StoredOutcomes(outcomes, state.ETag);
    }

    /// <summary>Writes an outcomes chunk over the version <paramref name="etag"/> names; returns the new ETag.</summary>
    public async Task<string?> WriteOutcomesAsync(int chunk, ItemOutcome?[] outcomes, string? etag)
    {
        var state = new GrainState<OutcomeChunk>(new OutcomeChunk { Outcomes = outcomes }, etag);
        await storage.WriteStateAsync(OutcomesStatePrefix + chunk, Batch, state);
        return state.ETag;
    }

    /// <summary>Whether items chunk <paramref name="chunk"/> is stored.</summary>
    public async Task<bool> ItemsExistAsync(int chunk) => await ReadItemsAsync(chunk) is not null;

    /// <summary>Deletes both chunks numbered <paramref name="chunk"/>, if they exist.</summary>
    public async Task DeleteChunkAsync(int chunk)
    {
        await DeleteAsync<ItemChunk>(ItemsStatePrefix + chunk);
        await DeleteAsync<OutcomeChunk>(OutcomesStatePrefix + chunk);
    }

    private async Task DeleteAsync<T>(string stateName)
    {
        // The current ETag is needed for the (checked) delete; reading it also tells whether there is anything to delete.
        var state = new GrainState<T>();
        await storage.ReadStateAsync(stateName, Batch, state);
        if (state.RecordExists || state.ETag is not null)
        {
            await storage.ClearStateAsync(stateName, Batch, state);
        }
    }
}

/// <summary>An outcomes chunk as read: one slot per position of the chunk, and the ETag to write it over (null: nothing stored).</summary>
internal readonly record struct StoredOutcomes(ItemOutcome?[] Outcomes, string? ETag);
