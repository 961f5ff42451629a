using System.Runtime.CompilerServices;
using Floodgate.Batches;

namespace Floodgate.Client.Batches;

/// <summary>A submitted batch: follow its progress, read its results in input order, cancel it.</summary>
public sealed class BatchHandle
{
    private readonly IBatchGrain _grain;
    private readonly FloodgateClientOptions _options;
    private readonly TimeProvider _time;

    internal BatchHandle(string id, IGrainFactory grains, FloodgateClientOptions options, TimeProvider time, BatchProgress? initial)
    {
        Id = id;
        _grain = grains.GetGrain<IBatchGrain>(id);
        _options = options;
        _time = time;
        Submitted = initial;
    }

    /// <summary>The batch id.</summary>
    public string Id { get; }

    /// <summary>The progress returned at submission (null for a handle made with <see cref="IFloodgateClient.GetBatch"/>).</summary>
    public BatchProgress? Submitted { get; }

    /// <summary>Returns the current progress.</summary>
    public Task<BatchProgress> GetProgressAsync(CancellationToken cancellationToken = default) =>
        _grain.GetProgressAsync().WaitAsync(cancellationToken);

    /// <summary>Streams progress: the current snapshot, then one per change (at most one per WatchInterval) until finished.</summary>
    public async IAsyncEnumerable<BatchProgress> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var progress = await GetProgressAsync(cancellationToken);
        yield return progress;
        while (!progress.IsFinished)
        {
            if (_options.WatchInterval > TimeSpan.Zero)
            {
                await Task.Delay(_options.WatchInterval, _time, cancellationToken);
            }

            var next = await _grain.WaitForProgressAsync(progress.Version, _options.PollWait, cancellationToken);
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
    public async IAsyncEnumerable<ItemOutcome> ReadResultsAsync(int fromPosition, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (fromPosition < 0)
        {
            throw new Validation.FloodgateValidationException($"Position must not be negative (got {fromPosition}).");
        }

        var position = fromPosition;
        while (true)
        {
            var page = await _grain.ReadResultsAsync(position, _options.ResultPageSize, _options.PollWait, cancellationToken);
            foreach (var outcome in page.Outcomes)
            {
                yield return outcome;
            }

            if (page.IsComplete)
            {
                yield break;
            }

            position = page.NextPosition;
        }
    }

    /// <summary>Stops dispatch and cancels items in flight; returns the progress after the request.</summary>
    public Task<BatchProgress> CancelAsync(CancellationToken cancellationToken = default) =>
        _grain.CancelAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// Runs the failed items of a finished batch again, in place (same positions; results stay in input order); returns
    /// the progress after the request. Throws <see cref="Validation.FloodgateConflictException"/> when the batch is still
    /// running, was cancelled or has no failed item.
    /// </summary>
    public Task<BatchProgress> RetryFailedAsync(CancellationToken cancellationToken = default) =>
        _grain.RetryFailedAsync().WaitAsync(cancellationToken);
}
