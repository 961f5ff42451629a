using Floodgate.Batches;
using Floodgate.Grains.Draining;
using Floodgate.Grains.Telemetry;
using Floodgate.Grains.Items;

namespace Floodgate.Grains.Batches;

/// <summary>Dispatch: starting items, asking items whether they still run, cancelling them.</summary>
internal sealed partial class BatchGrain
{
    private readonly HashSet<int> _probing = [];
    private int _prefetchedChunk = -1;
    private readonly LaneEpochs _laneEpochs = new();
    private readonly Dictionary<(int Lane, int Epoch), IItemGrain> _laneGrains = [];

    /// <summary>Dispatches what the local limit, the items received and the durable reservation allow; asks for a write when one is due.</summary>
    private void Pump()
    {
        if (_ledger is not { } ledger || _fenced || _deleting || _stopping.IsCancellationRequested)
        {
            return;
        }

        while (ledger.TryDispatch(_limit.Effective, out var position))
        {
            _ = StartItemAsync(ledger, position);
        }

        // Read the next chunk of items before the cursor gets there.
        var chunk = ledger.Cursor / ledger.ChunkSize;
        if (chunk != _prefetchedChunk && !_finished)
        {
            _prefetchedChunk = chunk;
            if (chunk + 1 < ledger.ReceivedChunks)
            {
                _items!.Prefetch(chunk + 1);
            }
        }

        Changed();
        RequestWrite();
    }

    /// <summary>
    /// Hands one item to its grain without waiting for it: the batch's turn must not include the item's activation, or
    /// the batch becomes a serial bottleneck. A start that does not arrive is found by <see cref="CheckInFlight"/>.
    /// </summary>
    private async Task StartItemAsync(BatchLedger ledger, int position)
    {
        var dispatchId = ledger.DispatchIdOf(position);
        ItemWork work;
        try
        {
            var definition = Definition;
            var item = await _items!.GetAsync(position);
            work = new ItemWork(BatchId, position, item, definition.Processor, definition.ProcessorOptions, _limiters, definition.EffectiveBreaker, definition.Priority, definition.PermitTimeout);
        }
        catch (Exception ex)
        {
            // The item could not be read (storage failed): it was never started, so it runs again after a pause.
            LogItemReadFailed(ex, BatchId, position);
            if (await PauseAsync(BatchConstants.FailedStartRecheck) && ReferenceEquals(ledger, _ledger) && dispatchId is { } id)
            {
                OnNotRunning(ledger, position, id);
            }

            return;
        }

        using var traced = FloodgateTracing.Enter(_trace);
        var epoch = _laneEpochs.Current(position);
        try
        {
            await Item(position, epoch).StartAsync(work);
        }
        catch (Exception ex)
        {
            if (ex is SiloStoppingException)
            {
                // The lane's activation drains; it stays until its runs end. Its later starts go to a new activation.
                LogStartRefused(BatchId, position);
                if (_laneEpochs.Refused(position, epoch))
                {
                    RequestWrite();
                }
            }
            else
            {
                LogDispatchFailed(ex, BatchId, position);
            }
            if (!ReferenceEquals(ledger, _ledger) || ledger.DispatchIdOf(position) is not { } current)
            {
                return;
            }

            // The start may not have arrived: ask soon, so an idle item runs again at once (the check would take longer).
            if (await PauseAsync(BatchConstants.FailedStartRecheck))
            {
                await ProbeAsync(position, current);
            }
        }
    }

    /// <summary>Asks every item in flight for longer than the check interval whether it still runs (its start or silo may be lost).</summary>
    private Task CheckInFlight()
    {
        if (_ledger is { } ledger && !_finished)
        {
            foreach (var (position, dispatchId) in ledger.InFlightSince(time.GetUtcNow() - _options.InFlightCheckInterval))
            {
                _ = ProbeAsync(position, dispatchId);
            }

            RequestWrite();
        }

        return Task.CompletedTask;
    }

    /// <summary>Running: it counts and will report. Not running: it never will, so it runs again (or ends Cancelled after a cancel).</summary>
    private async Task ProbeAsync(int position, long dispatchId)
    {
        if (!_probing.Add(position))
        {
            return;
        }

        try
        {
            var running = await IsRunningAsync(position);
            if (_ledger is not { } ledger || _stopping.IsCancellationRequested)
            {
                return;
            }

            if (running)
            {
                ledger.Confirm(position, dispatchId);
                Changed();
            }
            else if (OnNotRunning(ledger, position, dispatchId))
            {
                LogRequeued(BatchId, position);
            }
        }
        catch (Exception ex)
        {
            // Still counted in flight; the next check asks again.
            LogProbeFailed(ex, BatchId, position);
        }
        finally
        {
            _probing.Remove(position);
        }
    }

    private async Task CancelItemAsync(int position)
    {
        try
        {
            // Not running: no outcome will come from the item, so the batch records it.
            if (!await CancelRunAsync(position) && _ledger is { } ledger)
            {
                OnNotRunning(ledger, position, dispatchId: null);
            }
        }
        catch (Exception ex)
        {
            // The in-flight check asks the item again.
            LogCancelFailed(ex, BatchId, position);
        }
    }

    /// <summary>The item is known not to run (and never to report): run it again, or record it Cancelled after a cancel.</summary>
    private bool OnNotRunning(BatchLedger ledger, int position, long? dispatchId)
    {
        switch (ledger.Requeue(position, dispatchId))
        {
            case RequeueResult.Requeued:
                Pump();
                return true;
            case RequeueResult.CancelInstead:
                RecordOutcome(ItemOutcome.Cancelled(position, 0));
                Pump();
                return true;
            default:
                return false;
        }
    }

    /// <summary>Waits unless the activation stops first; false when it stops.</summary>
    private async Task<bool> PauseAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _stopping.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="position"/> runs under any epoch of its lane (usually one call: epoch 0).</summary>
    private async Task<bool> IsRunningAsync(int position)
    {
        foreach (var epoch in _laneEpochs.Candidates(position))
        {
            if (await Item(position, epoch).IsRunningAsync(position))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Cancels <paramref name="position"/> under every epoch of its lane; true when a run was going on.</summary>
    private async Task<bool> CancelRunAsync(int position)
    {
        var running = false;
        foreach (var epoch in _laneEpochs.Candidates(position))
        {
            running |= await Item(position, epoch).CancelAsync(position);
        }

        return running;
    }

    /// <summary>The item grain of <paramref name="position"/>'s lane at <paramref name="epoch"/> (references made once per lane and epoch).</summary>
    private IItemGrain Item(int position, int epoch)
    {
        var lane = (ItemLanes.Of(position), epoch);
        if (!_laneGrains.TryGetValue(lane, out var grain))
        {
            _laneGrains[lane] = grain = references.Get<IItemGrain>(LaneEpochs.KeyOf(BatchId, position, epoch));
        }

        return grain;
    }
}
