using Floodgate.Batches;

namespace Floodgate.Client.Batches;

/// <summary>
/// How a <see cref="BatchHandle"/> reaches its batch: the batch grain through Orleans (<see cref="GrainBatchChannel"/>)
/// or the silo's HTTP API (<see cref="Http.HttpBatchChannel"/>). Following a batch (watch, wait) is written once, in the
/// handle, over these calls.
/// </summary>
internal interface IBatchChannel
{
    Task<BatchProgress> GetProgressAsync(CancellationToken cancellationToken);

    /// <summary>The progress once its version is past <paramref name="afterVersion"/>, or the latest after at most <paramref name="maxWait"/>.</summary>
    Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken);

    /// <summary>The outcomes from <paramref name="fromPosition"/> (not negative) on, in input order, each once every outcome before it is known.</summary>
    IAsyncEnumerable<ItemOutcome> ReadResultsAsync(int fromPosition, CancellationToken cancellationToken);

    Task<BatchProgress> CancelAsync(CancellationToken cancellationToken);

    /// <summary>Runs the failed items of a finished batch again; a conflict when the batch's state does not allow it.</summary>
    Task<BatchProgress> RetryFailedAsync(CancellationToken cancellationToken);
}
