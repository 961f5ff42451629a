using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Floodgate.Tests.Infrastructure;

/// <summary>
/// Wraps grain storage and counts what is read and written: every write with its state name, grain and size (as the
/// Orleans serializer encodes it, which is what Redis stores). An outside observer of how much a grain writes.
/// </summary>
public sealed class CountingGrainStorage(IGrainStorage inner, Serializer serializer) : IGrainStorage
{
    private readonly ConcurrentQueue<StorageWrite> _writes = new();
    private readonly ConcurrentQueue<(string StateName, string GrainKey)> _reads = new();

    /// <summary>A serializer that knows Floodgate's state types, for tests outside a silo.</summary>
    public static Serializer NewSerializer() =>
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    /// <summary>Shared in-memory storage (like Redis for every silo of an in-process cluster) with counting.</summary>
    public static CountingGrainStorage InMemory(Serializer serializer, ConcurrentDictionary<string, (string ETag, byte[] State)>? store = null) =>
        new(new SharedGrainStorage(store ?? new ConcurrentDictionary<string, (string ETag, byte[] State)>(), serializer), serializer);

    public IReadOnlyList<StorageWrite> Writes => [.. _writes];

    /// <summary>Writes of one grain (by its key, e.g. a batch id).</summary>
    public IReadOnlyList<StorageWrite> WritesOf(string grainKey) => Writes.Where(w => w.GrainKey == grainKey).ToList();

    /// <summary>Reads of one grain's records, by state name.</summary>
    public IReadOnlyList<string> ReadsOf(string grainKey) => _reads.Where(r => r.GrainKey == grainKey).Select(r => r.StateName).ToList();

    public void Reset()
    {
        _writes.Clear();
        _reads.Clear();
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _reads.Enqueue((stateName, grainId.Key.ToString()!));
        return inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var bytes = serializer.SerializeToArray(grainState.State).Length;
        await inner.WriteStateAsync(stateName, grainId, grainState);
        _writes.Enqueue(new StorageWrite(stateName, grainId.Key.ToString()!, bytes));
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>One successful write: which state of which grain, and how many bytes.</summary>
public sealed record StorageWrite(string StateName, string GrainKey, int Bytes);
