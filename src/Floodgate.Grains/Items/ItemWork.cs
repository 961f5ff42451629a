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
    /// <summary>The item's own name, <c>{batchId}/{position}</c> (logs, cache turns).</summary>
    public string ItemKey => $"{BatchId}/{Position}";

    /// <summary>Sent upstream so a retried call after a crash can be recognised: <c>{batchId}:{position}</c>.</summary>
    public string IdempotencyKey => $"{BatchId}:{Position}";
}

/// <summary>
/// Item grain keys, <c>{batchId}/{lane}</c>: a batch's items are spread over <see cref="Count"/> lanes by position, and one
/// activation per lane runs that lane's items side by side. An activation per lane instead of per item spares each item an
/// activation's placement, directory registration and deactivation. A lane is found from the position alone, so a batch's
/// successor asks the same grain whether an item still runs. Changing <see cref="Count"/> changes the grain-to-grain protocol.
/// </summary>
internal static class ItemLanes
{
    /// <summary>Lanes per batch: enough for their activations to spread over the silos and their cores.</summary>
    public const int Count = 32;

    /// <summary>The lane of <paramref name="position"/>.</summary>
    public static int Of(int position) => position % Count;

    /// <summary>The key of the item grain that runs <paramref name="position"/> of <paramref name="batchId"/>.</summary>
    public static string KeyOf(string batchId, int position) => $"{batchId}/{Of(position)}";
}
