using System.Runtime.CompilerServices;
using Floodgate.Batches;

namespace Floodgate.Client.Batches;

/// <summary>
/// A submitted batch: follow its progress, read its results in input order, cancel it, retry its failed items. The same over Orleans
/// (<see cref="FloodgateClient"/>) and over HTTP (<see cref="Http.FloodgateHttpClient"/>).
/// </summary>
public sealed class BatchHandle
{
    private readonly IBatchChannel _channel;
    private readonly TimeSpan _watchInterval;
    private readonly TimeSpan _pollWait;
    private readonly TimeProvider _time;

    internal BatchHandle(string id, IGrainFactory grains, FloodgateClientOptions options, TimeProvider time, BatchProgress? initial)
        : this(id, new GrainBatchChannel(grains.GetGrain<IBatchGrain>(id), options), options.WatchInterval, options.PollWait, time, initial)
    {
    }

    internal BatchHandle(string id, IBatchChannel channel, TimeSpan watchInterval, TimeSpan pollWait, TimeProvider time, BatchProgress? initial)
    {
        Id = id;
        _channel = channel;
        _watchInterval = watchInterval;
        _pollWait = pollWait;
        _time = time;
        Submitted = initial;
    }

    /// <summary>The batch id.</summary>
    public string Id { get; }

    /// <summary>The progress returned at submission (null for a handle made with <see cref="IFloodgateOperations.GetBatch"/>).</summary>
    public BatchProgress? Submitted { get; }

    /// <summary>Returns the current progress.</summary>
    public Task<BatchProgress> GetProgressAsync(CancellationToken cancellationToken = default) =>
        _channel.GetProgressAsync(cancellationToken);

    /// <summary>
    /// Waits until the progress changes past <paramref name="afterVersion"/> (see <see cref="BatchProgress.Version"/>) or the
    /// batch is finished, for at most <paramref name="maxWait"/> (capped by the silo); returns the progress then.
    /// </summary>
    public Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
        _channel.WaitForProgressAsync(afterVersion, maxWait, cancellationToken);

    /// <summary>Streams progress: the current snapshot, then one per change (at most one per WatchInterval) until finished.</summary>
    public async IAsyncEnumerable<BatchProgress> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var progress = await GetProgressAsync(cancellationToken);
        yield return progress;
        while (!progress.IsFinished)
        {
            if (_watchInterval > TimeSpan.Zero)
            {
                await Task.Delay(_watchInterval, _time, cancellationToken);
            }

            var next = await _channel.WaitForProgressAsync(progress.Version, _pollWait, cancellationToken);
            if (next.Version != progress.Version)
            {
                progress = next;
                yield return progress;
            }
        }
    }

    /// <summary>Waits until every item has an outcome and returns the final progress.</summary>
    public async Task<BatchProgress> WaitForCompletionAsync(CancellationToken cancellationToken = default)
    {
        BatchProgress? last = null;
        await foreach (var progress in WatchAsync(cancellationToken))
        {
            last = progress;
        }

        return last!;
    }

    /// <summary>Streams every outcome in input order, each as soon as all outcomes before it are known.</summary>
    public IAsyncEnumerable<ItemOutcome> ReadResultsAsync(CancellationToken cancellationToken = default) =>
        ReadResultsAsync(0, cancellationToken);

    /// <summary>
    /// Streams the outcomes from position <paramref name="fromPosition"/> on, in input order, each as soon as all outcomes
    /// before it are known. Any position may be asked for; a batch reads its outcomes from storage as needed.
    /// </summary>
    public IAsyncEnumerable<ItemOutcome> ReadResultsAsync(int fromPosition, CancellationToken cancellationToken = default) =>
        fromPosition < 0
            ? throw new Validation.FloodgateValidationException($"Position must not be negative (got {fromPosition}).")
            : _channel.ReadResultsAsync(fromPosition, cancellationToken);

    /// <summary>Stops dispatch and cancels items in flight; returns the progress after the request.</summary>
    public Task<BatchProgress> CancelAsync(CancellationToken cancellationToken = default) =>
        _channel.CancelAsync(cancellationToken);

    /// <summary>
    /// Runs the failed items of a finished batch again, in place (same positions; results stay in input order); returns
    /// the progress after the request. Throws <see cref="Validation.FloodgateConflictException"/> when the batch is still
    /// running, was cancelled or has no failed item.
    /// </summary>
    public Task<BatchProgress> RetryFailedAsync(CancellationToken cancellationToken = default) =>
        _channel.RetryFailedAsync(cancellationToken);
}
