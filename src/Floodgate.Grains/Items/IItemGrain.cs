namespace Floodgate.Grains.Items;

/// <summary>
/// Runs the items of one lane of a batch (key: <c>{batchId}/{lane}</c>, see <see cref="ItemLanes"/>), each on its own:
/// breaker → global permit → processor under a Polly pipeline → breaker report → release → outcome to the batch.
/// Grain-to-grain protocol: only batches call it.
/// </summary>
[Alias("Floodgate.IItemGrain")]
internal interface IItemGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts processing the item and returns at once; the outcome is reported to the batch. Idempotent while its run goes
    /// on: one activation never runs a position twice at once.
    /// </summary>
    [Alias("Start")]
    Task StartAsync(ItemWork work);

    /// <summary>
    /// Cancels processing of <paramref name="position"/>; the item then reports <c>Cancelled</c> unless it already
    /// finished. Returns whether its run was going on (false: no outcome will come, and a later start of the position in
    /// this activation is refused).
    /// </summary>
    [Alias("CancelPosition")]
    Task<bool> CancelAsync(int position);

    /// <summary>Whether <paramref name="position"/> runs here (it will report its outcome, or that it was interrupted).</summary>
    [Alias("IsPositionRunning")]
    Task<bool> IsRunningAsync(int position);
}
