namespace Floodgate.Grains.References;

/// <summary>
/// Sends values to a grain per key in groups, one call in flight per key: while a key's call is on its way, later values
/// for it wait and go together in the next one (the group-commit pattern: no added delay when idle, fewer and larger
/// calls under load). Each sender learns whether its own value was delivered: its task faults with the call's error
/// when not, and it retries as it would a call of its own. Thread-safe.
/// </summary>
/// <param name="send">The call that delivers one group for a key.</param>
/// <param name="maxGroup">Most values in one call.</param>
internal sealed class GroupedCalls<TKey, T>(Func<TKey, IReadOnlyList<T>, Task> send, int maxGroup)
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, Queue<(T Value, TaskCompletionSource Delivered)>> _waiting = [];

    /// <summary>Completes once a call for <paramref name="key"/> has delivered <paramref name="value"/>; faults with the call's error when it did not.</summary>
    public Task SendAsync(TKey key, T value)
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool first;
        lock (_lock)
        {
            first = !_waiting.TryGetValue(key, out var queue);
            if (first)
            {
                _waiting[key] = queue = new Queue<(T, TaskCompletionSource)>();
            }

            queue!.Enqueue((value, delivered));
        }

        if (first)
        {
            // Off the caller's activation: the sender may outlive it.
            _ = Task.Run(() => SendAllAsync(key));
        }

        return delivered.Task;
    }

    private async Task SendAllAsync(TKey key)
    {
        while (Take(key) is { } group)
        {
            try
            {
                await send(key, group.ConvertAll(g => g.Value));
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

    /// <summary>The next group for <paramref name="key"/>, or null (and the key's queue gone) when none waits.</summary>
    private List<(T Value, TaskCompletionSource Delivered)>? Take(TKey key)
    {
        lock (_lock)
        {
            var queue = _waiting[key];
            if (queue.Count == 0)
            {
                _waiting.Remove(key);
                return null;
            }

            var group = new List<(T, TaskCompletionSource)>(Math.Min(queue.Count, maxGroup));
            while (group.Count < maxGroup && queue.TryDequeue(out var next))
            {
                group.Add(next);
            }

            return group;
        }
    }
}
