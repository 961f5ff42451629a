using Floodgate.Batches;
using Floodgate.Grains.WarmUp;

namespace Floodgate.Grains.Batches.Index;

/// <summary>
/// Keeps one batch's entry in the list of batches up to date: changes go out one call at a time, the latest one wins
/// (a change made while another is on its way replaces it), and each is retried through cluster faults. The list is a
/// view: a change that never gets through is reported to <c>onFailure</c>, and the batch runs on regardless. Used from
/// one activation's turns (its retries stay on the activation's scheduler). The start-up warm-up's batch
/// (<see cref="WarmUpNames"/>) is never listed.
/// </summary>
internal sealed class BatchIndexPublisher(IGrainFactory grains, TimeProvider time, Action<Exception> onFailure)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private Func<IBatchIndexUpdates, Task>? _pending;
    private bool _removed;
    private Task _sending = Task.CompletedTask;

    /// <summary>Publishes <paramref name="summary"/>; completes once it (or a later change) got through or was given up.</summary>
    public Task PublishAsync(BatchSummary summary) =>
        _removed || WarmUpNames.IsWarmUp(summary.BatchId) ? Task.CompletedTask : Enqueue(index => index.UpsertAsync(summary));

    /// <summary>Removes the batch from the list; nothing is published after this.</summary>
    public Task RemoveAsync(string batchId)
    {
        _removed = true;
        return WarmUpNames.IsWarmUp(batchId) ? Task.CompletedTask : Enqueue(index => index.RemoveAsync(batchId));
    }

    private Task Enqueue(Func<IBatchIndexUpdates, Task> change)
    {
        _pending = change;
        if (_sending.IsCompleted)
        {
            _sending = SendAsync();
        }

        return _sending;
    }

    private async Task SendAsync()
    {
        var index = grains.GetGrain<IBatchIndexUpdates>(IBatchIndexGrain.Key);
        while (_pending is { } change)
        {
            _pending = null;
            var giveUpAt = time.GetUtcNow() + BatchConstants.IndexUpdateRetry;
            for (var delay = FirstRetryDelay; ; delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2)
            {
                try
                {
                    await change(index);
                    break;
                }
                catch (Exception ex) when (ClusterFaults.IsTransient(ex) && time.GetUtcNow() + delay < giveUpAt && _pending is null)
                {
                    await Task.Delay(delay, time);
                }
                catch (Exception ex)
                {
                    // A newer change is waiting (it carries everything), or this one cannot get through.
                    if (_pending is null)
                    {
                        onFailure(ex);
                    }

                    break;
                }
            }
        }
    }
}
