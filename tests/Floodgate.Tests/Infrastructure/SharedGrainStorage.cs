using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace Floodgate.Tests.Infrastructure;

/// <summary>
/// Grain storage that outlives any one silo of an in-process cluster (like Redis does for real silos): one dictionary
/// shared by every silo, with ETag checks so two activations of one grain cannot both write. <see cref="StorageFaults"/>
/// makes chosen writes slow.
/// </summary>
public sealed class SharedGrainStorage(
    ConcurrentDictionary<string, (string ETag, byte[] State)> store, Serializer serializer, StorageFaults? faults = null) : IGrainStorage
{
    private readonly Lock _gate = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.TryGetValue(Key(stateName, grainId), out var entry))
        {
            grainState.State = serializer.Deserialize<T>(entry.State);
            grainState.ETag = entry.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var payload = serializer.SerializeToArray(grainState.State);
        if (faults?.WriteDelayFor(key) is { } delay)
        {
            await Task.Delay(delay);
        }

        lock (_gate)
        {
            var current = store.TryGetValue(key, out var entry) ? entry.ETag : null;
            if (current != grainState.ETag)
            {
                throw new InconsistentStateException($"ETag mismatch for {key}", current, grainState.ETag);
            }

            var etag = Guid.NewGuid().ToString("N");
            store[key] = (etag, payload);
            grainState.ETag = etag;
            grainState.RecordExists = true;
        }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        store.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";
}

/// <summary>Faults a test switches on for storage keys containing a given text (a grain's name).</summary>
public sealed class StorageFaults
{
    private readonly ConcurrentDictionary<string, TimeSpan> _slowWrites = new();

    /// <summary>Every write of a record whose key contains <paramref name="keyPart"/> takes <paramref name="delay"/>.</summary>
    public void SlowWrites(string keyPart, TimeSpan delay) => _slowWrites[keyPart] = delay;

    public TimeSpan? WriteDelayFor(string key) =>
        _slowWrites.FirstOrDefault(s => key.Contains(s.Key, StringComparison.Ordinal)) is { Key: not null } hit ? hit.Value : null;
}
