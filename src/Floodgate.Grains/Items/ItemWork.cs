using Floodgate.Limiting;

namespace Floodgate.Grains.Items;

/// <summary>What a batch hands to an item grain: one item and how to process it (grain-to-grain protocol).</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.ItemWork")]
internal sealed record ItemWork(
    [property: Id(0)] string BatchId,
    [property: Id(1)] int Position,
    [property: Id(2)] string ItemJson,
    [property: Id(3)] string Processor,
    [property: Id(4)] IReadOnlyDictionary<string, string> ProcessorOptions,
    [property: Id(5)] IReadOnlyList<string> Limiters,
    [property: Id(6)] string Breaker,
    [property: Id(7)] AcquirePriority Priority,
    [property: Id(8)] TimeSpan? PermitTimeout)
{
    /// <summary>The key of the item grain that processes this item.</summary>
    public string ItemKey => ItemKeys.Format(BatchId, Position);

    /// <summary>Sent upstream so a retried call after a crash can be recognised: <c>{batchId}:{position}</c>.</summary>
    public string IdempotencyKey => $"{BatchId}:{Position}";
}

/// <summary>Item grain keys: <c>{batchId}/{position}</c>.</summary>
internal static class ItemKeys
{
    /// <summary>Formats an item grain key.</summary>
    public static string Format(string batchId, int position) => $"{batchId}/{position}";
}
