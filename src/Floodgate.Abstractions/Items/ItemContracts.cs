namespace Floodgate.Items;

/// <summary>What a batch hands to an item grain: one item and how to process it.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.ItemWork")]
public sealed record ItemWork(
    [property: Id(0)] string BatchId,
    [property: Id(1)] int Position,
    [property: Id(2)] string ItemJson,
    [property: Id(3)] string Processor,
    [property: Id(4)] IReadOnlyDictionary<string, string> ProcessorOptions,
    [property: Id(5)] IReadOnlyList<string> Limiters,
    [property: Id(6)] string Breaker,
    [property: Id(7)] Limiting.AcquirePriority Priority,
    [property: Id(8)] TimeSpan? PermitTimeout)
{
    /// <summary>The key of the item grain that processes this item.</summary>
    public string ItemKey => ItemKeys.Format(BatchId, Position);

    /// <summary>Sent upstream so a retried call after a crash can be recognised: <c>{batchId}:{position}</c>.</summary>
    public string IdempotencyKey => $"{BatchId}:{Position}";
}

/// <summary>Item grain keys: <c>{batchId}/{position}</c>.</summary>
public static class ItemKeys
{
    /// <summary>Formats an item grain key.</summary>
    public static string Format(string batchId, int position) => $"{batchId}/{position}";
}

/// <summary>
/// Processes one item of a batch (key: <c>{batchId}/{position}</c>): breaker → global permit → processor under a
/// Polly pipeline → breaker report → release → outcome to the batch.
/// </summary>
[Alias("Floodgate.IItemGrain")]
public interface IItemGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts processing and returns at once; the outcome is reported to the batch. Idempotent while a run goes on:
    /// one activation never runs its item twice at once.
    /// </summary>
    [Alias("Start")]
    Task StartAsync(ItemWork work);

    /// <summary>
    /// Cancels processing; the item then reports <c>Cancelled</c> unless it already finished. Returns whether a run was
    /// going on (false: no outcome will come, and a later start in this activation is refused).
    /// </summary>
    [Alias("Cancel")]
    Task<bool> CancelAsync();

    /// <summary>Whether a run is going on (it will report its outcome, or that it was interrupted).</summary>
    [Alias("IsRunning")]
    Task<bool> IsRunningAsync();
}
