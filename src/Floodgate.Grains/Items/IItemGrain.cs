namespace Floodgate.Grains.Items;

/// <summary>
/// Processes one item of a batch (key: <c>{batchId}/{position}</c>): breaker → global permit → processor under a
/// Polly pipeline → breaker report → release → outcome to the batch. Grain-to-grain protocol: only batches call it.
/// </summary>
[Alias("Floodgate.IItemGrain")]
internal interface IItemGrain : IGrainWithStringKey
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
