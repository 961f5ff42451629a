using Floodgate.Batches;
using Floodgate.Grains.Draining;
using Floodgate.Grains.Processors;
using Floodgate.Grains.Telemetry;
using Floodgate.Items;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Floodgate.Grains.Batches;

/// <summary>
/// Runs one batch: dispatches at most the effective local limit of items to item grains, keeps each item's single
/// outcome by position (bookkeeping in <see cref="BatchLedger"/>), writes its record (one write at a time, outcomes
/// grouped), serves progress and the durable in-order results (long polls, so the SDK can stream), and cancels.
/// An unfinished batch holds a reminder, so that it finishes after its silo died even if nobody calls it.
/// Not reentrant: only the long polls interleave, and they only read. Item calls are never awaited in a turn (an item
/// waits on its batch when it reports, and its deactivation waits for that report).
/// </summary>
internal sealed partial class BatchGrain(
    [PersistentState("batch")] IPersistentState<BatchRecord> record,
    ProcessorRegistry processors,
    IOptions<BatchOptions> options,
    TimeProvider time,
    FloodgateMetrics metrics,
    ILogger<BatchGrain> logger) : Grain, IBatchGrain, IBatchItemEvents, IRemindable
{
    private const string ReminderName = "unfinished";

    private readonly BatchOptions _options = options.Value;
    private readonly LatencyWindow _latency = new();
    private readonly HashSet<int> _probing = [];
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();
    private BatchLedger? _ledger;
    private AdaptiveLimit _limit = new(1, 1);
    private IReadOnlyList<string> _limiters = [];
    private int _retries;
    private int _rateLimitHits;
    private int _breakerRejections;
    private long _version;
    private Task _flush = Task.CompletedTask;
    private bool _flushing;
    private DateTimeOffset _lastWriteStart = DateTimeOffset.MinValue;
    private DateTimeOffset? _finishedAt;
    private bool _finished;
    private bool _fenced;
    private IGrainTimer? _inFlightTimer;
    private FloodgateMetrics.RunningBatch? _running;
    private System.Diagnostics.Activity? _trace;

    private string BatchId => this.GetPrimaryKeyString();

    private BatchSpec Spec => record.State.Spec ?? throw new FloodgateNotFoundException("batch", BatchId);

    private BatchLedger Ledger => _ledger ?? throw new FloodgateNotFoundException("batch", BatchId);

    /// <summary>Finished and durably so: what readers are told.</summary>
    private bool IsFinished => _finished;

    /// <summary>Something not yet in storage that a successor must know.</summary>
    private bool NeedsWrite => _ledger is { } ledger && !_fenced && !_finished && (ledger.HasUnwrittenChanges || ledger.IsComplete);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (record.State.Spec is null)
        {
            return;
        }

        Restore();
        if (record.State.FinishedAt is { } finishedAt)
        {
            _finished = true;
            _finishedAt = finishedAt;
            return;
        }

        // A previous activation was lost. What it may have left running is unconfirmed: ask each item before
        // dispatching more (running ones count against the local limit and report; idle ones run again).
        var ledger = Ledger;
        LogResuming(BatchId, ledger.Total - ledger.Done, ledger.Unconfirmed);
        _running = metrics.BatchResumed();
        _trace = FloodgateTracing.StartBatch(BatchId, ledger.Total, Spec.Processor, Spec.Limiter, resumed: true);
        await KeepReminderAsync();
        StartInFlightChecks();
        if (ledger.CancelRequested)
        {
            foreach (var position in ledger.Cancel())
            {
                _ = CancelItemAsync(position);
            }
        }
        else
        {
            foreach (var (position, dispatchId) in ledger.Dispatched())
            {
                _ = ProbeAsync(position, dispatchId);
            }
        }

        Pump();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _running?.Dispose();
        FloodgateTracing.EndBatch(_trace, _ledger?.Succeeded ?? 0, _ledger?.Failed ?? 0, _ledger?.Cancelled ?? 0, finished: false);
        if (_ledger is null)
        {
            return;
        }

        try
        {
            await _flush.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Whatever is not written is run again by a successor (at-least-once calls, exactly-once outcomes).
            return;
        }
        catch (Exception ex)
        {
            LogCheckpointFailed(ex, BatchId);
        }

        if (NeedsWrite)
        {
            await WriteAsync();
        }
    }

    public async Task<BatchProgress> SubmitAsync(BatchSpec spec)
    {
        if (record.State.Spec is not null)
        {
            return Progress();
        }

        var errors = new List<string>(BatchSpecValidator.Validate(spec));
        if (errors.Count == 0)
        {
            errors.AddRange(processors.Validate(spec));
        }

        if (errors.Count > 0)
        {
            DeactivateOnIdle();
            throw new FloodgateValidationException(errors);
        }

        var warnings = new List<string>();
        if (spec.GlobalLimit is { } globalLimit)
        {
            var configuration = await GrainFactory.GetGrain<IGlobalLimiterGrain>(spec.Limiter).ConfigureAsync(globalLimit);
            if (configuration.Warning is { } warning)
            {
                warnings.Add(warning);
            }
        }

        // The reminder first: once the record exists, something must wake the batch after a loss.
        await KeepReminderAsync();
        record.State = new BatchRecord
        {
            Spec = spec,
            SubmittedAt = time.GetUtcNow(),
            Outcomes = new List<ItemOutcome?>(new ItemOutcome?[spec.Items.Count]),
            Warnings = warnings,
        };
        Restore();

        // Before the first write: it dispatches the first items, which become the span's children.
        _trace = FloodgateTracing.StartBatch(BatchId, spec.Items.Count, spec.Processor, spec.Limiter, resumed: false);
        try
        {
            // The first write also reserves the first positions to dispatch.
            await WriteAsync(throwOnFailure: true);
        }
        catch
        {
            FloodgateTracing.EndBatch(_trace, 0, 0, 0, finished: false);
            _trace = null;
            _ledger = null;
            record.State = new BatchRecord();
            DeactivateOnIdle();
            throw;
        }

        LogSubmitted(BatchId, spec.Items.Count, spec.Processor, spec.Limiter, spec.LocalLimit);
        _running = metrics.BatchStarted();
        StartInFlightChecks();
        Pump();
        return Progress();
    }

    public Task<BatchProgress> GetProgressAsync()
    {
        _ = Spec;
        return Task.FromResult(Progress());
    }

    public async Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        _ = Spec;
        var deadline = time.GetUtcNow() + ClampWait(maxWait);
        while (_version <= afterVersion && !IsFinished && await WaitForChangeAsync(deadline, cancellationToken))
        {
        }

        return Progress();
    }

    public async Task<ResultPage> ReadResultsAsync(int fromPosition, int maxCount, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var total = Spec.Items.Count;
        if (fromPosition < 0 || fromPosition > total)
        {
            throw new FloodgateValidationException($"Position must be between 0 and {total} (got {fromPosition}).");
        }

        if (maxCount < 1)
        {
            throw new FloodgateValidationException($"Page size must be at least 1 (got {maxCount}).");
        }

        // Only durable outcomes are served: what a reader saw never changes, whatever happens to this activation.
        var deadline = time.GetUtcNow() + ClampWait(maxWait);
        while (Ledger.DurablePrefix <= fromPosition && fromPosition < total && await WaitForChangeAsync(deadline, cancellationToken))
        {
        }

        var page = Ledger.ReadDurable(fromPosition, Math.Min(maxCount, _options.MaxResultPage));
        var next = fromPosition + page.Count;
        return new ResultPage(page, next, next >= total);
    }

    public Task<BatchProgress> CancelAsync()
    {
        _ = Spec;
        var ledger = Ledger;
        if (IsFinished || ledger.CancelRequested)
        {
            return Task.FromResult(Progress());
        }

        var inFlight = ledger.Cancel();
        LogCancelling(BatchId, inFlight.Count);
        foreach (var position in inFlight)
        {
            _ = CancelItemAsync(position);
        }

        Changed();
        RequestWrite();
        return Task.FromResult(Progress());
    }

    public Task ReportOutcomeAsync(ItemReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (_ledger is null)
        {
            LogUnknownReport(BatchId, report.Outcome.Position);
            DeactivateOnIdle();
            return Task.CompletedTask;
        }

        // Exactly one outcome per item: a late or repeated report changes nothing.
        if (_ledger.Record(report.Outcome))
        {
            _retries += report.Retries;
            _rateLimitHits += report.RateLimitHits;
            _breakerRejections += report.BreakerRejections;
            _latency.Add(report.Duration);
            _limit.OnOutcome(report.Outcome.Status == ItemStatus.Succeeded, report.RateLimitHits > 0);
            Pump();
        }

        return Task.CompletedTask;
    }

    public Task ReportInterruptedAsync(int position)
    {
        if (_ledger?.Requeue(position, dispatchId: null) == true)
        {
            LogInterrupted(BatchId, position);
            Pump();
        }

        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_ledger is null || _finished)
        {
            return ForgetReminderAsync();
        }

        // Being activated was the point; also retry a write that is due.
        RequestWrite();
        return Task.CompletedTask;
    }

    /// <summary>Dispatches what the local limit and the durable reservation allow, and asks for a write when one is due.</summary>
    private void Pump()
    {
        if (_ledger is not { } ledger || _fenced || _stopping.IsCancellationRequested)
        {
            return;
        }

        while (ledger.TryDispatch(_limit.Effective, out var position))
        {
            _ = StartItemAsync(Work(position));
        }

        Changed();
        RequestWrite();
    }

    private ItemWork Work(int position)
    {
        var spec = Spec;
        return new ItemWork(BatchId, position, spec.Items[position], spec.Processor, spec.ProcessorOptions, _limiters, spec.EffectiveBreaker, spec.Priority, spec.PermitTimeout);
    }

    /// <summary>
    /// Hands one item to its grain without waiting for it: the batch's turn must not include the item's activation, or
    /// the batch becomes a serial bottleneck. A start that does not arrive is found by <see cref="CheckInFlight"/>.
    /// </summary>
    private async Task StartItemAsync(ItemWork work)
    {
        using var traced = FloodgateTracing.Enter(_trace);
        try
        {
            await Item(work.Position).StartAsync(work);
        }
        catch (Exception ex)
        {
            if (ex is SiloStoppingException)
            {
                LogStartRefused(BatchId, work.Position);
            }
            else
            {
                LogDispatchFailed(ex, BatchId, work.Position);
            }

            if (_ledger?.DispatchIdOf(work.Position) is not { } dispatchId)
            {
                return;
            }

            // The start may not have arrived: ask soon, so an idle item runs again at once (the check would take longer).
            try
            {
                await Task.Delay(BatchConstants.FailedStartRecheck, time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await ProbeAsync(work.Position, dispatchId);
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
            var running = await Item(position).IsRunningAsync();
            if (_ledger is not { } ledger || _stopping.IsCancellationRequested)
            {
                return;
            }

            if (running)
            {
                ledger.Confirm(position, dispatchId);
                Changed();
            }
            else if (ledger.Requeue(position, dispatchId))
            {
                LogRequeued(BatchId, position);
                Pump();
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
            if (!await Item(position).CancelAsync() && _ledger?.Requeue(position, dispatchId: null) == true)
            {
                Pump();
            }
        }
        catch (Exception ex)
        {
            // The in-flight check asks the item again.
            LogCancelFailed(ex, BatchId, position);
        }
    }

    private IItemGrain Item(int position) => GrainFactory.GetGrain<IItemGrain>(ItemKeys.Format(BatchId, position));

    private void Restore()
    {
        var spec = Spec;
        _ledger = BatchLedger.Restore(record.State, Math.Max(_options.DispatchReservation, 2 * spec.LocalLimit), time);
        _limit = new AdaptiveLimit(spec.LocalLimit, _options.IncreaseAfterSuccesses);
        _limiters = spec.AllLimiters;
    }

    private void StartInFlightChecks() =>
        _inFlightTimer ??= this.RegisterGrainTimer(
            CheckInFlight,
            new GrainTimerCreationOptions { DueTime = _options.InFlightCheckInterval, Period = _options.InFlightCheckInterval });

    /// <summary>Starts the write loop unless it runs: one outstanding write; what arrives during a write goes in the next.</summary>
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
                // A short gap between writes bounds the write rate; outcomes arriving meanwhile share the next write.
                var gap = _lastWriteStart + _options.MinWriteInterval - time.GetUtcNow();
                if (gap > TimeSpan.Zero)
                {
                    await Task.Delay(gap, time, _stopping.Token);
                }

                if (!await WriteAsync())
                {
                    await Task.Delay(_options.CheckpointInterval, time, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Deactivating: OnDeactivateAsync makes the last write.
        }
        finally
        {
            _flushing = false;
        }
    }

    /// <summary>Writes the record from a ledger snapshot; true when it is durable.</summary>
    private async Task<bool> WriteAsync(bool throwOnFailure = false)
    {
        var ledger = Ledger;
        var snapshot = ledger.Snapshot();
        var finishedAt = ledger.IsComplete ? _finishedAt ??= time.GetUtcNow() : (DateTimeOffset?)null;
        var current = record.State;
        record.State = new BatchRecord
        {
            Spec = current.Spec,
            SubmittedAt = current.SubmittedAt,
            Warnings = current.Warnings,
            FinishedAt = finishedAt,
            CancelRequested = snapshot.CancelRequested,
            Outcomes = snapshot.Outcomes,
            InFlight = snapshot.InFlight,
            DispatchReservation = snapshot.Reservation,
        };
        _lastWriteStart = time.GetUtcNow();
        try
        {
            await record.WriteStateAsync();
        }
        catch (InconsistentStateException ex) when (!throwOnFailure)
        {
            // Another activation of this batch wrote the record: it owns the batch now.
            _fenced = true;
            LogFenced(ex, BatchId);
            DeactivateOnIdle();
            return false;
        }
        catch (Exception ex) when (!throwOnFailure && ex is not OperationCanceledException)
        {
            LogCheckpointFailed(ex, BatchId);
            return false;
        }

        ledger.Written(snapshot);
        if (finishedAt is not null && !_finished)
        {
            _finished = true;
            _inFlightTimer?.Dispose();
            LogFinished(BatchId, ledger.Succeeded, ledger.Failed, ledger.Cancelled);
            _running?.Finish();
            FloodgateTracing.EndBatch(_trace, ledger.Succeeded, ledger.Failed, ledger.Cancelled, finished: true);
            _trace = null;
            _ = ForgetReminderAsync();
        }

        Pump();
        Changed();
        return true;
    }

    private async Task KeepReminderAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
        }
        catch (Exception ex)
        {
            // Without a reminder the batch still runs; only a batch whose silo dies waits for the next caller.
            LogReminderFailed(ex, BatchId);
        }
    }

    private async Task ForgetReminderAsync()
    {
        try
        {
            if (await this.GetReminder(ReminderName) is { } reminder)
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

    private BatchProgress Progress()
    {
        var spec = Spec;
        var ledger = Ledger;
        var now = time.GetUtcNow();
        var done = ledger.Done;
        var finishedAt = _finished ? _finishedAt : null;
        var elapsed = ((finishedAt ?? now) - record.State.SubmittedAt).TotalSeconds;
        var rate = elapsed > 0 ? done / elapsed : 0;
        var remaining = spec.Items.Count - done;
        return new BatchProgress
        {
            BatchId = BatchId,
            State = (IsFinished, ledger.CancelRequested) switch
            {
                (true, true) => BatchState.Cancelled,
                (true, false) => BatchState.Completed,
                (false, true) => BatchState.Cancelling,
                _ => BatchState.Running,
            },
            Total = spec.Items.Count,

            // Positions a lost predecessor may have left running are pending until their item answers.
            Pending = ledger.Pending + ledger.Unconfirmed,
            InFlight = ledger.InFlight,
            Succeeded = ledger.Succeeded,
            Failed = ledger.Failed,
            Cancelled = ledger.Cancelled,
            LocalLimit = spec.LocalLimit,
            EffectiveLocalLimit = _limit.Effective,
            Retries = _retries,
            RateLimitHits = _rateLimitHits,
            BreakerRejections = _breakerRejections,
            ItemsPerSecond = rate,
            Eta = remaining == 0 ? TimeSpan.Zero : rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : null,
            AverageLatency = _latency.Average,
            P95Latency = _latency.P95,
            Limiter = spec.Limiter,
            Warnings = record.State.Warnings.ToList(),
            Version = _version,
            SubmittedAt = record.State.SubmittedAt,
            FinishedAt = finishedAt,
        };
    }

    private void Changed()
    {
        _version++;
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    /// <summary>Waits for the next change; false when the deadline passed first.</summary>
    private async Task<bool> WaitForChangeAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var left = deadline - time.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            return false;
        }

        try
        {
            await _changed.Task.WaitAsync(left, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private TimeSpan ClampWait(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _options.MaxPollWait ? _options.MaxPollWait : wait;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: {Count} item(s), processor {Processor}, limiter {Limiter}, local limit {LocalLimit}")]
    private partial void LogSubmitted(string batchId, int count, string processor, string limiter, int localLimit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} finished: {Succeeded} succeeded, {Failed} failed, {Cancelled} cancelled")]
    private partial void LogFinished(string batchId, int succeeded, int failed, int cancelled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} resumes after losing its activation: {Left} item(s) without an outcome, {Unconfirmed} to ask whether they still run")]
    private partial void LogResuming(string batchId, int left, int unconfirmed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: cancel did not reach item {Position}")]
    private partial void LogCancelFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: write failed; retrying")]
    private partial void LogCheckpointFailed(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: another activation wrote the record; this one stops")]
    private partial void LogFenced(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} cancelling; {InFlight} item(s) in flight")]
    private partial void LogCancelling(string batchId, int inFlight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: outcome for position {Position} arrived for an unknown batch")]
    private partial void LogUnknownReport(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch {BatchId}: item {Position} was not started (its silo is stopping); starting it again soon")]
    private partial void LogStartRefused(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: item {Position} could not be started; asking it soon whether it runs")]
    private partial void LogDispatchFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: could not ask item {Position} whether it runs; asking again at the next check")]
    private partial void LogProbeFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: item {Position} is not running and has no outcome; it runs again")]
    private partial void LogRequeued(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: item {Position} was interrupted; it runs again")]
    private partial void LogInterrupted(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: reminder could not be registered or removed")]
    private partial void LogReminderFailed(Exception ex, string batchId);
}
