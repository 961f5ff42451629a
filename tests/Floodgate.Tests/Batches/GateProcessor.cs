using System.Collections.Concurrent;
using System.Text.Json;
using Floodgate.Grains.Processors;

namespace Floodgate.Tests.Batches;

/// <summary>
/// A test processor that counts its own runs (an outside observer of how many runs of a batch's items overlap). An item
/// <c>{"hold": true}</c> waits until the test opens the batch's gate; <c>{"holdFromRun": 2}</c> waits only from that run
/// on. The result names the position and the run number, so a re-run shows in the outcome.
/// </summary>
public sealed class GateProcessor : IItemProcessor
{
    public const string ProcessorName = "gate";

    private static readonly ConcurrentDictionary<string, GateRuns> Batches = new();

    public string Name => ProcessorName;

    /// <summary>The run record of one batch (created on first use).</summary>
    public static GateRuns For(string batchId) => Batches.GetOrAdd(batchId, _ => new GateRuns());

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var runs = For(context.BatchId);
        var run = runs.Begin(context.Position);
        try
        {
            var hold = item.ValueKind == JsonValueKind.Object
                && ((item.TryGetProperty("hold", out var h) && h.ValueKind == JsonValueKind.True)
                    || (item.TryGetProperty("holdFromRun", out var from) && run >= from.GetInt32()));
            if (hold)
            {
                await runs.Gate.WaitAsync(cancellationToken);
            }

            return JsonSerializer.SerializeToElement(new { position = context.Position, run });
        }
        finally
        {
            runs.End();
        }
    }
}

/// <summary>What the gate processor saw of one batch.</summary>
public sealed class GateRuns
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<int, int> _runs = new();
    private int _running;
    private int _maxRunning;

    public Task Gate => _gate.Task;

    /// <summary>Runs of this batch's items going on right now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>The most runs of this batch's items ever going on at once.</summary>
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    /// <summary>How many runs of <paramref name="position"/> have started.</summary>
    public int Runs(int position) => _runs.GetValueOrDefault(position);

    public void Open() => _gate.TrySetResult();

    internal int Begin(int position)
    {
        var run = _runs.AddOrUpdate(position, 1, (_, n) => n + 1);
        Infrastructure.InterlockedMax.Raise(ref _maxRunning, Interlocked.Increment(ref _running));
        return run;
    }

    internal void End() => Interlocked.Decrement(ref _running);
}
