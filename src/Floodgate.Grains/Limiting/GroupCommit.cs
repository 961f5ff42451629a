namespace Floodgate.Grains.Limiting;

/// <summary>
/// Group commit for one grain's state: one write runs at a time, and every caller that asks while a write runs shares the
/// next one. <see cref="FlushAsync"/> completes once a write that started after the call has succeeded, so whatever
/// the caller changed before calling is durable. Not thread-safe: used from one grain activation's turns.
/// <para>A write starts after the work already queued on the caller's scheduler (one yield): in a grain, the requests
/// that arrived in the same moment join it, so a burst of grants shares one write instead of the first going alone.</para>
/// <para>The callers of a write resume inline when it ends (on the activation's scheduler, which allows that), before the
/// next write starts: a grant is answered without one more trip through the activation's queue.</para>
/// </summary>
internal sealed class GroupCommit(Func<Task> write)
{
    private TaskCompletionSource? _next;
    private bool _writing;

    /// <summary>Writes started so far (for tests and status).</summary>
    public long Writes { get; private set; }

    /// <summary>True while a write is running.</summary>
    public bool Writing => _writing;

    /// <summary>Completes when a write that started after this call has finished; faults with that write's error.</summary>
    public Task FlushAsync()
    {
        _next ??= new TaskCompletionSource();
        var flushed = _next.Task;
        if (!_writing)
        {
            _ = RunAsync();
        }

        return flushed;
    }

    private async Task RunAsync()
    {
        _writing = true;
        try
        {
            await Task.Yield();
            while (_next is { } group)
            {
                _next = null;
                Writes++;
                Exception? failure = null;
                try
                {
                    await write();
                }
                catch (Exception ex)
                {
                    failure = ex;
                }

                // Outside the try: the callers' continuations may run right here.
                if (failure is null)
                {
                    group.TrySetResult();
                }
                else
                {
                    group.TrySetException(failure);
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }
}
