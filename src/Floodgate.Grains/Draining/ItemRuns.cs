namespace Floodgate.Grains.Draining;

/// <summary>
/// The item runs in progress in this silo, so that a stopping silo can let them finish (<see cref="SiloDrain"/>).
/// Thread-safe: runs start and end on many activations at once, so starts and ends only count (no lock); the lock guards
/// the waiter of <see cref="WhenIdleAsync"/>.
/// </summary>
public sealed class ItemRuns
{
    private readonly object _gate = new();
    private int _running;
    private bool _draining;
    private TaskCompletionSource? _idle;

    /// <summary>Runs in progress now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>False once the silo drains: new runs belong on another silo (<see cref="SiloStoppingException"/>).</summary>
    public bool Accepting => !Volatile.Read(ref _draining);

    /// <summary>From now on new runs are refused.</summary>
    public void StopAccepting() => Volatile.Write(ref _draining, true);

    /// <summary>Counts a run until the returned handle is disposed (exactly once).</summary>
    public IDisposable Start()
    {
        Interlocked.Increment(ref _running);
        return new Run(this);
    }

    /// <summary>Completes when no run is in progress (at once if none is).</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Volatile.Read(ref _running) == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    private void End()
    {
        if (Interlocked.Decrement(ref _running) != 0)
        {
            return;
        }

        TaskCompletionSource? idle;
        lock (_gate)
        {
            // A run may have started since: then its end completes the waiter.
            if (Volatile.Read(ref _running) != 0)
            {
                return;
            }

            idle = _idle;
            _idle = null;
        }

        idle?.TrySetResult();
    }

    private sealed class Run(ItemRuns runs) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                runs.End();
            }
        }
    }
}
