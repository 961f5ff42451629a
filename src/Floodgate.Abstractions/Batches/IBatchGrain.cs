using Orleans.Concurrency;

namespace Floodgate.Batches;

/// <summary>
/// One batch (key: batch id): its spec, local limit, dispatch of items, outcomes by position, progress and cancel.
/// </summary>
[Alias("Floodgate.IBatchGrain")]
public interface IBatchGrain : IGrainWithStringKey
{
    /// <summary>
    /// Validates and starts the batch. Submitting again to the same id returns the existing batch's progress.
    /// Throws <see cref="Validation.FloodgateValidationException"/> and creates nothing when the spec is invalid.
    /// </summary>
    [Alias("Submit")]
    Task<BatchProgress> SubmitAsync(BatchSpec spec);

    /// <summary>Returns the current progress; throws <see cref="Validation.FloodgateNotFoundException"/> for an unknown id.</summary>
    [Alias("GetProgress")]
    Task<BatchProgress> GetProgressAsync();

    /// <summary>Waits until the progress version exceeds <paramref name="afterVersion"/> or <paramref name="maxWait"/> passes.</summary>
    [AlwaysInterleave, Alias("WaitForProgress"), ResponseTimeout(FloodgateDefaults.LongCallTimeout)]
    Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns up to <paramref name="maxCount"/> consecutive outcomes from <paramref name="fromPosition"/>, waiting up to
    /// <paramref name="maxWait"/> for the next one when none is ready yet.
    /// </summary>
    [AlwaysInterleave, Alias("ReadResults"), ResponseTimeout(FloodgateDefaults.LongCallTimeout)]
    Task<ResultPage> ReadResultsAsync(int fromPosition, int maxCount, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Stops dispatch, cancels items in flight and marks every unfinished item Cancelled.</summary>
    [Alias("Cancel")]
    Task<BatchProgress> CancelAsync();

    /// <summary>Called by item grains with their one outcome. Later reports for the same position are ignored.</summary>
    [Alias("ReportOutcome")]
    Task ReportOutcomeAsync(ItemReport report);
}
