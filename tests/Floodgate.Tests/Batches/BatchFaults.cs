using System.Collections.Concurrent;
using Floodgate.Grains.Items;
using Orleans.Serialization;
using Orleans.Storage;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Batches;

/// <summary>
/// Faults a test can inject into one batch (by batch id), shared by every silo of an in-process cluster: storage writes
/// that fail (what a crash after the last successful write looks like to a successor) and item starts that are lost.
/// Also counts the calls item grains receive, by method name.
/// </summary>
public sealed class BatchFaults
{
    private readonly ConcurrentDictionary<string, int> _writesLeft = new();
    private readonly ConcurrentDictionary<string, bool> _lostStarts = new();
    private readonly ConcurrentDictionary<(string Key, string Method), int> _itemCalls = new();

    public ConcurrentDictionary<string, (string ETag, byte[] State)> Store { get; } = new();

    /// <summary>
    /// After <paramref name="writes"/> more successful writes of the batch's record and outcome chunks, every such write
    /// fails (its items chunks, written while it is submitted, are not counted and never fail).
    /// </summary>
    public void FailWritesAfter(string batchId, int writes) => _writesLeft[batchId] = writes;

    public void HealWrites(string batchId) => _writesLeft.TryRemove(batchId, out _);

    /// <summary>Every start of an item of the batch is lost (throws before reaching the item grain).</summary>
    public void LoseStarts(string batchId) => _lostStarts[batchId] = true;

    public int ItemCalls(string batchId, int position, string method) =>
        _itemCalls.GetValueOrDefault(($"{batchId}/{position}", method));

    /// <summary>One of the batch's records as storage holds it (what a successor activation would read), or null.</summary>
    public T? Stored<T>(string batchId, string stateName, Serializer serializer)
        where T : class =>
        Store.TryGetValue($"{stateName}/batch/{batchId}", out var entry) ? serializer.Deserialize<T>(entry.State) : null;

    /// <summary>How many records of the batch storage holds (its own, items chunks, outcome chunks).</summary>
    public int StoredRecords(string batchId) => Store.Keys.Count(k => k.EndsWith("/batch/" + batchId, StringComparison.Ordinal));

    internal bool WriteFails(string stateName, GrainId grainId)
    {
        var key = grainId.Key.ToString()!;
        return grainId.Type.ToString() == "batch"
            && !stateName.StartsWith("batch-items-", StringComparison.Ordinal)
            && _writesLeft.TryGetValue(key, out var left)
            && (left <= 0 || !_writesLeft.TryUpdate(key, left - 1, left));
    }

    internal bool StartIsLost(string batchId) => _lostStarts.ContainsKey(batchId);

    internal void CountItemCall(string batchId, int position, string method) =>
        _itemCalls.AddOrUpdate(($"{batchId}/{position}", method), 1, (_, n) => n + 1);
}

/// <summary>Shared durable storage (like <see cref="SharedGrainStorage"/>) whose writes fail when <see cref="BatchFaults"/> says so.</summary>
public sealed class FaultyGrainStorage(BatchFaults faults, Serializer serializer) : IGrainStorage
{
    private readonly SharedGrainStorage _inner = new(faults.Store, serializer);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        faults.WriteFails(stateName, grainId)
            ? throw new IOException($"Injected fault: write of {grainId} lost.")
            : _inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>Counts calls to item grains by item (batch and position) and loses the starts <see cref="BatchFaults"/> says to lose.</summary>
public sealed class ItemCallFaultFilter(BatchFaults faults) : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IItemGrain)
        {
            // The grain is the item's lane ({batchId}/{lane}); the position is the call's argument.
            var lane = context.TargetId.Key.ToString()!;
            var batchId = lane[..lane.LastIndexOf('/')];
            var position = context.Request.GetArgument(0) switch
            {
                ItemWork work => work.Position,
                int p => p,
                var other => throw new InvalidOperationException($"Unexpected item grain argument {other}."),
            };
            faults.CountItemCall(batchId, position, context.InterfaceMethod.Name);
            if (context.InterfaceMethod.Name == nameof(IItemGrain.StartAsync) && faults.StartIsLost(batchId))
            {
                throw new InvalidOperationException("Injected fault: item start lost.");
            }
        }

        return context.Invoke();
    }
}
