using Floodgate.Batches;
using Floodgate.Grains.Batches.Chunks;
using Floodgate.Grains.Batches.Index;
using Floodgate.Grains.Telemetry;
using Orleans.Storage;

namespace Floodgate.Grains.Batches;

/// <summary>The batch's life in storage: restore, writes (chunks, then the record), finish, retry's rebuild, expiry and discard.</summary>
internal sealed partial class BatchGrain
{
    private const string UnfinishedReminder = "unfinished";
    private const string ExpiryReminder = "expire";

    private Task _flush = Task.CompletedTask;
    private bool _flushing;
    private DateTimeOffset _lastWriteStart = DateTimeOffset.MinValue;
    private IGrainTimer? _inFlightTimer;
    private IGrainTimer? _idleTimer;

    /// <summary>Something not yet in storage that a successor must know.</summary>
    private bool NeedsWrite =>
        _ledger is { } ledger && _outcomes is { } outcomes && !_fenced && !_finished && !_deleting && !_rebuilding
        && (outcomes.HasUnwritten || ledger.RecordIsBehind || ledger.IsDurablyComplete || record.State.RetryPending || _laneEpochs.Unwritten);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Touch();
        var state = record.State;
        if (state.Definition is null)
        {
            return;
        }

        _index = new BatchIndexPublisher(GrainFactory, time, ex => LogIndexFailed(ex, BatchId));
        if (state.Deleting)
        {
            // A previous activation was deleting the batch: finish that; meanwhile the batch is not found.
            _deleting = true;
            _ = DeleteAsync("its deletion was interrupted");
            return;
        }

        if (state.RetryPending)
        {
            _beforeRetry = RetryProgress(state);
            _running = metrics.BatchResumed(BatchId);
            _trace = FloodgateTracing.StartBatch(BatchId, state.Received, state.Definition.Processor, state.Definition.Limiter, resumed: true);
            BeginRebuild();
            return;
        }

        var ledger = await RestoreAsync(state);
        if (state.FinishedAt is { } finishedAt)
        {
            _finished = true;
            _finishedAt = finishedAt;
            StartIdleTimer();
            if (time.GetUtcNow() >= finishedAt + _options.Retention)
            {
                _ = DeleteAsync("its retention passed");
            }

            return;
        }

        // A previous activation was lost. What it may have left running is unconfirmed: ask each item before
        // dispatching more (running ones count against the local limit and report; idle ones run again).
        LogResuming(BatchId, ledger.Total - ledger.Done, ledger.Unconfirmed);
        _running = metrics.BatchResumed(BatchId);
        _trace = FloodgateTracing.StartBatch(BatchId, ledger.Total, state.Definition.Processor, state.Definition.Limiter, resumed: true);
        _lastReceivedAt = time.GetUtcNow();
        await KeepReminderAsync(UnfinishedReminder, _options.ReminderPeriod);
        StartInFlightChecks();
        foreach (var (position, dispatchId) in ledger.Dispatched())
        {
            _ = ledger.CancelRequested ? CancelItemAsync(position) : ProbeAsync(position, dispatchId);
        }

        Pump();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _running?.Dispose();
        EndTrace(finished: false);
        if (_ledger is null || _deleting)
        {
            return;
        }

        try
        {
            await _flush.WaitAsync(cancellationToken);
            if (NeedsWrite)
            {
                await WriteRoundAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // Whatever is not written is run again by a successor (at-least-once calls, exactly-once outcomes).
        }
        catch (Exception ex)
        {
            LogCheckpointFailed(ex, BatchId);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_deleting)
        {
            // The deletion under way removes the reminders when it is done (if it fails, a tick finds it unfinished).
            return;
        }

        if (record.State.Definition is null)
        {
            await ForgetReminderAsync(reminderName);
            return;
        }

        if (reminderName == ExpiryReminder)
        {
            if (_finished && _finishedAt is { } finishedAt && time.GetUtcNow() >= finishedAt + _options.Retention)
            {
                await DeleteAsync("its retention passed");
            }

            return;
        }

        if (_finished)
        {
            await ForgetReminderAsync(UnfinishedReminder);
            return;
        }

        if (_ledger is { Sealed: false } && time.GetUtcNow() - _lastReceivedAt > _options.ReceiveTimeout)
        {
            await DiscardAsync($"no items arrived for {_options.ReceiveTimeout}");
            return;
        }

        // Being activated was the point; also retry a write that is due.
        RequestWrite();
    }

    /// <summary>Takes <paramref name="ledger"/> as the batch's bookkeeping, with fresh chunk stores (nothing cached).</summary>
    private void Attach(BatchLedger ledger)
    {
        var state = record.State;
        var chunks = new ChunkStorage(storage, this.GetGrainId());
        _items = new ItemStore(chunks, state.ChunkSize, _options.CachedChunks);
        _outcomes = new OutcomeStore(chunks, state.ChunkSize, _options.CachedChunks);
        _index ??= new BatchIndexPublisher(GrainFactory, time, ex => LogIndexFailed(ex, BatchId));
        _limit = new AdaptiveLimit(state.Definition!.LocalLimit, _options.IncreaseAfterSuccesses);
        _limiters = state.Definition.AllLimiters;
        _ledger = ledger;
    }

    private int BaseReservation(BatchDefinition definition) => Math.Max(_options.DispatchReservation, 2 * definition.LocalLimit);

    /// <summary>
    /// Rebuilds the ledger from the record and the chunks stored after it: items chunks it does not count yet (a lost
    /// activation received them), and the outcomes from the durable prefix up to the reservation.
    /// </summary>
    private async Task<BatchLedger> RestoreAsync(BatchRecord state)
    {
        var ledger = BatchLedger.Resume(state.Checkpoint, state.ChunkSize, BaseReservation(state.Definition!), time);
        Attach(ledger);
        _laneEpochs.Restore(state.LaneEpochs);
        _ledger = null;
        while (!ledger.Sealed && await _items!.ReadAsync(ledger.ReceivedChunks) is { } chunk)
        {
            ledger.Receive(chunk.Items.Count, chunk.IsLast);
        }

        var (first, end) = ledger.ChunksToRestore(all: false);
        for (var chunk = first; chunk < end; chunk++)
        {
            ledger.RestoreChunk(chunk, await _outcomes!.RestoreAsync(chunk, eraseFailed: false));
        }

        ledger.CompleteRestore(afterRetry: false);
        _ledger = ledger;
        return ledger;
    }

    /// <summary>Starts a retry's rebuild: the ledger is replaced once every chunk is read (and its failed outcomes erased).</summary>
    private void BeginRebuild()
    {
        _rebuilding = true;
        _finished = false;
        _finishedAt = null;
        _generation++;
        _ledger = null;
        _idleTimer?.Dispose();
        _idleTimer = null;
        Changed();
        _ = RebuildAsync();
    }

    private async Task RebuildAsync()
    {
        var state = record.State;
        var point = new LedgerCheckpoint(state.Received, Sealed: true, 0, 0, 0, 0, state.Received, CancelledFrom: null);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var ledger = BatchLedger.Resume(point, state.ChunkSize, BaseReservation(state.Definition!), time);
                Attach(ledger);
                _ledger = null;
                var (first, end) = ledger.ChunksToRestore(all: true);
                for (var chunk = first; chunk < end; chunk++)
                {
                    ledger.RestoreChunk(chunk, await _outcomes!.RestoreAsync(chunk, eraseFailed: true));
                }

                ledger.CompleteRestore(afterRetry: true);
                _ledger = ledger;
                _rebuilding = false;
                _beforeRetry = null;
                LogRebuilt(BatchId, ledger.Total - ledger.Done);
                StartInFlightChecks();
                Pump();
                return;
            }
            catch (InconsistentStateException ex)
            {
                Fence(ex);
                return;
            }
            catch (Exception ex)
            {
                LogCheckpointFailed(ex, BatchId);
                try
                {
                    await Task.Delay(_options.CheckpointInterval, time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>What a batch whose retry is being prepared reports, from its record (the failed items are pending again).</summary>
    private BatchProgress RetryProgress(BatchRecord state) => new()
    {
        BatchId = BatchId,
        State = BatchState.Running,
        Total = state.Received,
        Pending = state.PrefixFailed,
        InFlight = 0,
        Succeeded = state.PrefixSucceeded,
        Failed = 0,
        Cancelled = state.PrefixCancelled,
        LocalLimit = state.Definition!.LocalLimit,
        EffectiveLocalLimit = state.Definition.LocalLimit,
        Retries = 0,
        RateLimitHits = 0,
        BreakerRejections = 0,
        ItemsPerSecond = 0,
        Eta = null,
        AverageLatency = TimeSpan.Zero,
        P95Latency = TimeSpan.Zero,
        Limiter = state.Definition.Limiter,
        Warnings = state.Warnings.ToList(),
        Version = _version,
        SubmittedAt = state.SubmittedAt,
        FinishedAt = null,
        RetryRounds = state.RetryRounds,
    };

    /// <summary>Starts the write loop unless it runs: one round at a time; what arrives during a round goes in the next.</summary>
    private void RequestWrite()
    {
        if (NeedsWrite && !_flushing && !_stopping.IsCancellationRequested)
        {
            _flush = FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        // Set before the first await: a write that completes synchronously must not start a second loop.
        _flushing = true;
        try
        {
            while (NeedsWrite)
            {
                // A short gap between rounds bounds the write rate; outcomes arriving meanwhile share the next round.
                var gap = _lastWriteStart + _options.MinWriteInterval - time.GetUtcNow();
                if (gap > TimeSpan.Zero)
                {
                    await Task.Delay(gap, time, _stopping.Token);
                }

                if (!await WriteRoundAsync())
                {
                    await Task.Delay(_options.CheckpointInterval, time, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Deactivating: OnDeactivateAsync makes the last round.
        }
        finally
        {
            _flushing = false;
        }
    }

    /// <summary>
    /// One round of writes: every outcome chunk that changed (one write per chunk, all at once), then the record when it
    /// is behind — after the chunks, so the counters it holds are those of durable outcomes. True when all succeeded.
    /// </summary>
    private async Task<bool> WriteRoundAsync()
    {
        _lastWriteStart = time.GetUtcNow();
        var ledger = Ledger;
        var outcomes = _outcomes!;
        var succeeded = true;
        var chunks = outcomes.ChunksToWrite();
        if (chunks.Count > 0)
        {
            var written = await Task.WhenAll(chunks.Select(chunk => WriteChunkAsync(ledger, outcomes, chunk)));
            succeeded = written.All(ok => ok);
            outcomes.Trim();
        }

        if (_fenced || !ReferenceEquals(ledger, _ledger))
        {
            return false;
        }

        if (ledger.RecordIsBehind || (ledger.IsDurablyComplete && !_finished) || record.State.RetryPending || _laneEpochs.Unwritten)
        {
            succeeded &= await WriteRecordAsync();
        }

        return succeeded;
    }

    private async Task<bool> WriteChunkAsync(BatchLedger ledger, OutcomeStore outcomes, int chunk)
    {
        try
        {
            var durable = await outcomes.WriteAsync(chunk);
            if (ReferenceEquals(ledger, _ledger))
            {
                ledger.MarkDurable(durable);
                Changed();
            }

            return true;
        }
        catch (InconsistentStateException ex)
        {
            Fence(ex);
            return false;
        }
        catch (Exception ex)
        {
            LogCheckpointFailed(ex, BatchId);
            return false;
        }
    }

    /// <summary>Writes the record from a ledger checkpoint; true when it is durable.</summary>
    private async Task<bool> WriteRecordAsync(bool throwOnFailure = false)
    {
        var ledger = Ledger;
        var checkpoint = ledger.Checkpoint();
        var finishedAt = ledger.IsDurablyComplete ? _finishedAt ??= time.GetUtcNow() : (DateTimeOffset?)null;
        var next = record.State.Copy();
        next.Apply(checkpoint);
        next.FinishedAt = finishedAt;
        next.RetryPending = false;
        next.LastReceivedAt = _lastReceivedAt;
        var (epochs, epochsVersion) = _laneEpochs.Snapshot();
        next.LaneEpochs = epochs;
        record.State = next;
        try
        {
            await record.WriteStateAsync();
        }
        catch (InconsistentStateException ex) when (!throwOnFailure)
        {
            Fence(ex);
            return false;
        }
        catch (Exception ex) when (!throwOnFailure && ex is not OperationCanceledException)
        {
            LogCheckpointFailed(ex, BatchId);
            return false;
        }

        ledger.Written(checkpoint);
        _laneEpochs.Written(epochsVersion);
        if (finishedAt is not null && !_finished)
        {
            Finish(ledger);
        }

        Pump();
        Changed();
        return true;
    }

    /// <summary>Every outcome is durable and the record says so: stop running, start counting down the retention.</summary>
    private void Finish(BatchLedger ledger)
    {
        _finished = true;
        _inFlightTimer?.Dispose();
        _inFlightTimer = null;
        LogFinished(BatchId, ledger.Succeeded, ledger.Failed, ledger.Cancelled);
        _running?.Finish();
        EndTrace(finished: true);

        // Nothing more is dispatched or written: only readers' chunks stay in memory (read again as asked).
        _items!.Clear();
        _outcomes!.Trim(keep: 0);
        StartIdleTimer();
        PublishToIndex();
        _ = SwitchToExpiryAsync();
    }

    /// <summary>Ends the batch's span (once) with the counts so far: finished, or left by this activation.</summary>
    private void EndTrace(bool finished)
    {
        FloodgateTracing.EndBatch(_trace, _ledger?.Succeeded ?? 0, _ledger?.Failed ?? 0, _ledger?.Cancelled ?? 0, finished);
        _trace = null;
    }

    private async Task SwitchToExpiryAsync()
    {
        // The expiry reminder's first tick is the end of the retention; later ticks (if a deletion failed) try again.
        await KeepReminderAsync(ExpiryReminder, _options.ReminderPeriod, due: _options.Retention);
        await ForgetReminderAsync(UnfinishedReminder);
    }

    /// <summary>
    /// Discards a batch that must not stay (its submission was aborted, bad or abandoned): items in flight are cancelled
    /// and every record of it is deleted.
    /// </summary>
    private async Task DiscardAsync(string why)
    {
        if (_ledger is { } ledger)
        {
            foreach (var (position, _) in ledger.Dispatched())
            {
                _ = CancelItemAsync(position);
            }
        }

        await DeleteAsync(why);
    }

    /// <summary>
    /// Deletes the batch from storage: the record is marked first (a successor finishes the job), then every chunk, then
    /// the record; the batch leaves the list of batches and this activation.
    /// </summary>
    private async Task DeleteAsync(string why)
    {
        _deleting = true;
        _stopping.Cancel();
        _inFlightTimer?.Dispose();
        _idleTimer?.Dispose();
        _running?.Dispose();
        EndTrace(finished: false);
        var known = Math.Max(record.State.Received, _ledger?.Total ?? 0);
        var chunkSize = Math.Max(1, record.State.ChunkSize);
        _ledger = null;
        Changed();
        try
        {
            await _flush;
        }
        catch (Exception)
        {
            // Nothing of the batch is to be kept.
        }

        LogDeleting(BatchId, why);
        try
        {
            if (!record.State.Deleting)
            {
                var deleting = record.State.Copy();
                deleting.Deleting = true;
                deleting.Received = known;
                record.State = deleting;
                await record.WriteStateAsync();
            }

            // Items chunks are contiguous: past the ones the record knows, go on while they exist.
            var chunks = new ChunkStorage(storage, this.GetGrainId());
            var knownChunks = (record.State.Received + chunkSize - 1) / chunkSize;
            for (var chunk = 0; chunk < knownChunks || await chunks.ItemsExistAsync(chunk); chunk++)
            {
                await chunks.DeleteChunkAsync(chunk);
            }

            await record.ClearStateAsync();
            await ForgetReminderAsync(UnfinishedReminder);
            await ForgetReminderAsync(ExpiryReminder);
            await (_index ?? new BatchIndexPublisher(GrainFactory, time, ex => LogIndexFailed(ex, BatchId))).RemoveAsync(BatchId);
            LogDeleted(BatchId);
        }
        catch (InconsistentStateException ex)
        {
            // Another activation owns the batch now; it finishes the deletion.
            LogFenced(ex, BatchId);
        }
        catch (Exception ex)
        {
            // The record says Deleting: the next activation (the expiry reminder wakes one) finishes the job.
            LogDeleteFailed(ex, BatchId);
        }

        DeactivateOnIdle();
    }

    private void Fence(Exception ex)
    {
        // Another activation of this batch wrote one of its records: it owns the batch now.
        if (!_fenced)
        {
            _fenced = true;
            LogFenced(ex, BatchId);
            DeactivateOnIdle();
        }
    }

    private void StartInFlightChecks() =>
        _inFlightTimer ??= this.RegisterGrainTimer(
            CheckInFlight,
            new GrainTimerCreationOptions { DueTime = _options.InFlightCheckInterval, Period = _options.InFlightCheckInterval });

    /// <summary>A finished batch nobody asked anything for one idle timeout leaves memory (it is read again when asked).</summary>
    private void StartIdleTimer() =>
        _idleTimer ??= this.RegisterGrainTimer(
            () =>
            {
                if (_finished && time.GetUtcNow() - _lastAccess >= _options.IdleTimeout)
                {
                    LogEvicting(BatchId);
                    DeactivateOnIdle();
                }

                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions { DueTime = _options.IdleTimeout, Period = _options.IdleTimeout, KeepAlive = false });

    private void PublishToIndex()
    {
        if (_index is { } index && !_deleting)
        {
            _ = index.PublishAsync(Progress().ToSummary());
        }
    }

    private async Task KeepReminderAsync(string name, TimeSpan period, TimeSpan? due = null)
    {
        try
        {
            await this.RegisterOrUpdateReminder(name, due ?? period, period);
        }
        catch (Exception ex)
        {
            // Without a reminder the batch still runs; only a batch whose silo dies waits for the next caller.
            LogReminderFailed(ex, BatchId);
        }
    }

    private async Task ForgetReminderAsync(string name)
    {
        try
        {
            if (await this.GetReminder(name) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            // The next tick tries again.
            LogReminderFailed(ex, BatchId);
        }
    }
}
