namespace Floodgate.Grains.Items;

/// <summary>
/// The items one lane activation runs (see <see cref="ItemLanes"/>), by position: which run, which were cancelled before
/// their start arrived, and whether the lane has been idle since the last look. Not thread-safe: used on the
/// activation's scheduler only.
/// </summary>
internal sealed class ItemLane
{
    private readonly Dictionary<int, ItemRun> _runs = [];
    private readonly HashSet<int> _cancelledBeforeStart = [];
    private bool _busySinceLook;

    /// <summary>Runs in progress.</summary>
    public int Count => _runs.Count;

    /// <summary>The runs in progress.</summary>
    public IEnumerable<ItemRun> Runs => _runs.Values;

    /// <summary>
    /// A new run of <paramref name="work"/>, or null when its position runs already (a repeated start after a loss must not
    /// run it twice at once) or was cancelled before this start arrived.
    /// </summary>
    public ItemRun? TryStart(ItemWork work)
    {
        _busySinceLook = true;
        if (_runs.ContainsKey(work.Position) || _cancelledBeforeStart.Contains(work.Position))
        {
            return null;
        }

        var run = new ItemRun(work);
        _runs.Add(work.Position, run);
        return run;
    }

    /// <summary>Whether <paramref name="position"/> runs here: it will report its outcome, or that it was interrupted.</summary>
    public bool IsRunning(int position) => _runs.ContainsKey(position);

    /// <summary>
    /// Cancels the run of <paramref name="position"/>; true when one was going on. False: no outcome will come, and a later
    /// start of the position in this activation is refused (a start still on its way must not run a cancelled item).
    /// </summary>
    public bool Cancel(int position)
    {
        // The lane keeps a cancel of a start still on its way: it must not go idle and forget it at once.
        _busySinceLook = true;
        if (_runs.TryGetValue(position, out var run))
        {
            run.Cancel();
            return true;
        }

        _cancelledBeforeStart.Add(position);
        return false;
    }

    /// <summary>Ends <paramref name="run"/>: its position no longer runs here.</summary>
    public void Finish(ItemRun run)
    {
        if (_runs.TryGetValue(run.Work.Position, out var current) && ReferenceEquals(current, run))
        {
            _runs.Remove(run.Work.Position);
        }

        _busySinceLook = true;
        run.Dispose();
    }

    /// <summary>True when nothing runs and no start or end came since the previous call: the activation may go.</summary>
    public bool IdleSinceLastLook()
    {
        var idle = _runs.Count == 0 && !_busySinceLook;
        _busySinceLook = false;
        return idle;
    }
}

/// <summary>One run of one item in a lane: its work, its cancellation, and the task that processes it.</summary>
internal sealed class ItemRun(ItemWork work) : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    public ItemWork Work => work;

    /// <summary>Cancelled by the batch's cancel or by the activation going away.</summary>
    public CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>The processing, once started.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    public void Dispose() => _cancellation.Dispose();
}
