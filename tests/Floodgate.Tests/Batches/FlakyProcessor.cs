using System.Collections.Concurrent;
using System.Text.Json;
using Floodgate.Grains.Processors;

namespace Floodgate.Tests.Batches;

/// <summary>
/// A test processor whose items <c>{"failFirst": true}</c> fail for good (not retried) the first time their batch runs
/// them, and succeed when run again (a retry of the batch's failed items). Results name the position and the run.
/// </summary>
public sealed class FlakyProcessor : IItemProcessor
{
    public const string ProcessorName = "flaky";

    private static readonly ConcurrentDictionary<(string BatchId, int Position), int> Runs = new();

    public string Name => ProcessorName;

    public Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var run = Runs.AddOrUpdate((context.BatchId, context.Position), 1, (_, n) => n + 1);
        var failFirst = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("failFirst", out var f) && f.ValueKind == JsonValueKind.True;
        return failFirst && run == 1
            ? throw new UpstreamException("Simulated permanent failure of a first run.", 400, isTransient: false)
            : Task.FromResult(JsonSerializer.SerializeToElement(new { position = context.Position, run }));
    }
}
