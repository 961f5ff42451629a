using Orleans.Concurrency;

namespace Floodgate.Batches;

/// <summary>
/// One batch (key: batch id): its definition, its items (stored in chunks as they arrive), local limit, dispatch of
/// items, outcomes by position, progress, cancel and retry.
/// </summary>
[Alias("Floodgate.IBatchGrain")]
public interface IBatchGrain : IGrainWithStringKey
{
    /// <summary>
    /// Validates <paramref name="definition"/> and creates the batch, ready to receive its items with
    /// <see cref="AppendItemsAsync"/> under <paramref name="uploadId"/> (the sender's own id for this submission, so a
    /// repeated open after a lost answer is recognised). When the batch exists already for another submission (the
    /// same batch id or idempotency key) its progress comes back without an upload id, and nothing changes. Throws
    /// <see cref="Validation.FloodgateValidationException"/> and creates nothing when the definition is invalid or
    /// <paramref name="expectedItems"/> is more than the silo takes.
    /// </summary>
    [Alias("Open")]
    Task<BatchOpened> OpenAsync(BatchDefinition definition, string uploadId, int? expectedItems = null);

    /// <summary>
    /// Adds chunk number <paramref name="chunk"/> (0, 1, 2, … in order) of the items: exactly
    /// <see cref="BatchOpened.ChunkSize"/> items, fewer only in the <paramref name="last"/> one. Returns once the chunk
    /// is durable; its items may start at once. Sending a chunk again (a lost answer) changes nothing. An invalid item
    /// or too many items throw <see cref="Validation.FloodgateValidationException"/> and discard the batch.
    /// </summary>
    [Alias("AppendItems")]
    Task<BatchProgress> AppendItemsAsync(string uploadId, int chunk, IReadOnlyList<string> items, bool last);

    /// <summary>Discards a batch whose items are still being sent: items in flight are cancelled and nothing of it stays.</summary>
    [Alias("AbortUpload")]
    Task AbortUploadAsync(string uploadId);

    /// <summary>Returns the current progress; throws <see cref="Validation.FloodgateNotFoundException"/> for an unknown id.</summary>
    [Alias("GetProgress")]
    Task<BatchProgress> GetProgressAsync();

    /// <summary>Waits until the progress version exceeds <paramref name="afterVersion"/> or <paramref name="maxWait"/> passes.</summary>
    [AlwaysInterleave, Alias("WaitForProgress"), ResponseTimeout(FloodgateDefaults.LongCallTimeout)]
    Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns up to <paramref name="maxCount"/> consecutive outcomes from <paramref name="fromPosition"/>, waiting up to
    /// <paramref name="maxWait"/> for the next one when none is ready yet. Any position may be asked for; outcomes are
    /// read from storage as needed.
    /// </summary>
    [AlwaysInterleave, Alias("ReadResults"), ResponseTimeout(FloodgateDefaults.LongCallTimeout)]
    Task<ResultPage> ReadResultsAsync(int fromPosition, int maxCount, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Stops dispatch, cancels items in flight and marks every unfinished item Cancelled.</summary>
    [Alias("Cancel")]
    Task<BatchProgress> CancelAsync();

    /// <summary>
    /// Runs the failed items of a finished batch again, in place: same positions, results stay in input order. Throws
    /// <see cref="Validation.FloodgateConflictException"/> when the batch is still running, was cancelled, or has no
    /// failed item.
    /// </summary>
    [Alias("RetryFailed")]
    Task<BatchProgress> RetryFailedAsync();
}

/// <summary>The answer to <see cref="IBatchGrain.OpenAsync"/>.</summary>
/// <param name="Progress">The batch's progress.</param>
/// <param name="UploadId">Send the items under this id; null when the batch existed already for another submission (send nothing).</param>
/// <param name="ChunkSize">Items per chunk of <see cref="IBatchGrain.AppendItemsAsync"/>.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchOpened")]
public sealed record BatchOpened(
    [property: Id(0)] BatchProgress Progress,
    [property: Id(1)] string? UploadId,
    [property: Id(2)] int ChunkSize);
