using Floodgate.Batches;
using Floodgate.Grains.Batches;
using Floodgate.Grains.References;

namespace Floodgate.Grains.Items;

/// <summary>
/// Sends this silo's item outcomes to their batches in groups, one call in flight per batch: while a batch's call is on
/// its way, later outcomes for it wait and go together in the next one (the group-commit pattern: no added delay when
/// idle, fewer and larger calls under load). Each sender learns whether its own outcome was delivered, and retries as
/// before when not; a batch ignores an outcome it already has, so a repeated one changes nothing.
/// </summary>
internal sealed class OutcomeReports(GrainReferences references)
{
    /// <summary>Most outcomes in one call.</summary>
    public const int MaxGroup = 1_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<(ItemReport Report, TaskCompletionSource Delivered)>> _waiting = new(StringComparer.Ordinal);

    /// <summary>Completes once the batch has taken <paramref name="report"/>; faults with the call's error when it did not.</summary>
    public Task SendAsync(string batchId, ItemReport report)
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool first;
        lock (_lock)
        {
            first = !_waiting.TryGetValue(batchId, out var queue);
            if (first)
            {
                _waiting[batchId] = queue = new Queue<(ItemReport, TaskCompletionSource)>();
            }

            queue!.Enqueue((report, delivered));
        }

        if (first)
        {
            // Off the caller's activation: the sender outlives it (the item deactivates once its outcome is delivered).
            _ = Task.Run(() => SendAllAsync(batchId));
        }

        return delivered.Task;
    }

    private async Task SendAllAsync(string batchId)
    {
        var batch = references.Shared<IBatchItemEvents>(batchId);
        while (Take(batchId) is { } group)
        {
            try
            {
                await batch.ReportOutcomesAsync(group.Select(g => g.Report).ToArray());
                foreach (var (_, delivered) in group)
                {
                    delivered.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, delivered) in group)
                {
                    delivered.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>The next group for <paramref name="batchId"/>, or null (and the batch's queue gone) when none waits.</summary>
    private List<(ItemReport Report, TaskCompletionSource Delivered)>? Take(string batchId)
    {
        lock (_lock)
        {
            var queue = _waiting[batchId];
            if (queue.Count == 0)
            {
                _waiting.Remove(batchId);
                return null;
            }

            var group = new List<(ItemReport, TaskCompletionSource)>(Math.Min(queue.Count, MaxGroup));
            while (group.Count < MaxGroup && queue.TryDequeue(out var next))
            {
                group.Add(next);
            }

            return group;
        }
    }
}
