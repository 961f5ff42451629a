using Floodgate.Batches;
using Floodgate.Grains.Processors;
using Floodgate.Items;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Batches;

/// <summary>What a batch keeps in storage: its spec and the outcomes so far (checkpointed, one write at a time).</summary>
[GenerateSerializer, Alias("Floodgate.BatchRecord")]
public sealed class BatchRecord
{
    [Id(0)] public BatchSpec? Spec { get; set; }

    [Id(1)] public DateTimeOffset SubmittedAt { get; set; }

    [Id(2)] public DateTimeOffset? FinishedAt { get; set; }

    [Id(3)] public bool CancelRequested { get; set; }

    [Id(4)] public List<ItemOutcome?> Outcomes { get; set; } = [];

    [Id(5)] public List<string> Warnings { get; set; } = [];

    /// <summary>Positions dispatched and without an outcome at the last checkpoint: a successor counts them as in flight.</summary>
    [Id(6)] public List<int> InFlight { get; set; } = [];
}

/// <summary>
/// Runs one batch: dispatches at most the effective local limit of items to item grains, keeps each item's single
/// outcome by position, serves progress and in-order results (long polls, so the SDK can stream), and cancels.
/// Not reentrant: only the long polls interleave, and they only read.
/// </summary>
internal sealed partial class BatchGrain(
    [PersistentState("batch")] IPersistentState<BatchRecord> record,
    ProcessorRegistry processors,
    IOptions<BatchOptions> options,
    TimeProvider time,
    ILogger<BatchGrain> logger) : Grain, IBatchGrain
{
    private readonly BatchOptions _options = options.Value;
    private readonly LatencyWindow _latency = new();
    private TaskCompletionSource _changed = NewSignal();
    private ItemStatus[] _status = [];
    private AdaptiveLimit _limit = new(1, 1);
    private IReadOnlyList<string> _limiters = [];
    private int _next;
    private int _inFlight;
    private int _pending;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _completedPrefix;
    private int _retries;
    private int _rateLimitHits;
    private int _breakerRejections;
    private long _version;
    private bool _dirty;
    private IGrainTimer? _checkpointTimer;
    private IGrainTimer? _inFlightTimer;
    private readonly Dictionary<int, DateTimeOffset> _dispatchedAt = [];

    private string BatchId => this.GetPrimaryKeyString();

    private BatchSpec Spec => record.State.Spec ?? throw new FloodgateNotFoundException("batch", BatchId);

    private bool IsFinished => record.State.FinishedAt is not null;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (record.State.Spec is null)
        {
            return;
        }

        // A previous activation was lost: rebuild from the checkpoint and run again every item without an outcome.
        Restore();
        if (IsFinished)
        {
            return;
        }

        LogResuming(BatchId, _pending + _inFlight);
        StartCheckpoints();
        if (record.State.CancelRequested)
        {
            // Cancelled before the loss: whatever has no outcome now never gets one from an item.
            for (var position = 0; position < _status.Length; position++)
            {
                if (record.State.Outcomes[position] is null)
                {
                    Record(ItemOutcome.Cancelled(position, 0));
                }
            }

            await FinishIfDoneAsync();
            return;
        }

        // Items that were in flight may still run on a surviving silo: count them against the local limit and start
        // them again (a no-op where their grain still runs them), before dispatching anything new.
        foreach (var position in _dispatchedAt.Keys.ToList())
        {
            Dispatch(position);
        }

        await PumpAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (record.State.Spec is not null && _dirty)
        {
            await CheckpointAsync();
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
            if (processors.CheckKnown(spec.Processor) is { } unknown)
            {
                errors.Add(unknown);
            }
            else
            {
                processors.TryGet(spec.Processor, out var processor);
                errors.AddRange(processor.ValidateOptions(spec.ProcessorOptions));
            }
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

        record.State = new BatchRecord
        {
            Spec = spec,
            SubmittedAt = time.GetUtcNow(),
            Outcomes = new List<ItemOutcome?>(new ItemOutcome?[spec.Items.Count]),
            Warnings = warnings,
        };
        await record.WriteStateAsync();
        Restore();
        LogSubmitted(BatchId, spec.Items.Count, spec.Processor, spec.Limiter, spec.LocalLimit);
        StartCheckpoints();
        await PumpAsync();
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

        var deadline = time.GetUtcNow() + ClampWait(maxWait);
        while (_completedPrefix <= fromPosition && fromPosition < total && await WaitForChangeAsync(deadline, cancellationToken))
        {
        }

        var end = Math.Min(_completedPrefix, fromPosition + Math.Min(maxCount, _options.MaxResultPage));
        var page = new List<ItemOutcome>(Math.Max(0, end - fromPosition));
        for (var i = fromPosition; i < end; i++)
        {
            page.Add(record.State.Outcomes[i]!);
        }

        var next = Math.Max(fromPosition, end);
        return new ResultPage(page, next, next >= total);
    }

    public async Task<BatchProgress> CancelAsync()
    {
        _ = Spec;
        if (IsFinished || record.State.CancelRequested)
        {
            return Progress();
        }

        record.State.CancelRequested = true;
        for (var position = _next; position < _status.Length; position++)
        {
            if (_status[position] == ItemStatus.Pending)
            {
                Record(ItemOutcome.Cancelled(position, 0));
            }
        }

        _next = _status.Length;
        var inFlight = Enumerable.Range(0, _status.Length).Where(p => _status[p] == ItemStatus.InFlight).ToList();
        LogCancelling(BatchId, inFlight.Count);
        await Task.WhenAll(inFlight.Select(CancelItemAsync));
        await FinishIfDoneAsync();
        Changed();
        return Progress();
    }

    private async Task CancelItemAsync(int position)
    {
        try
        {
            await GrainFactory.GetGrain<IItemGrain>(ItemKeys.Format(BatchId, position)).CancelAsync();
        }
        catch (Exception ex)
        {
            // The item still ends with one outcome: its own report, or Cancelled when the batch recovers.
            LogCancelFailed(ex, BatchId, position);
        }
    }

    public async Task ReportOutcomeAsync(ItemReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (record.State.Spec is null)
        {
            LogUnknownReport(BatchId, report.Outcome.Position);
            DeactivateOnIdle();
            return;
        }

        var position = report.Outcome.Position;
        if (position < 0 || position >= _status.Length || record.State.Outcomes[position] is not null)
        {
            // Exactly one outcome per item: a late or repeated report changes nothing.
            return;
        }

        _retries += report.Retries;
        _rateLimitHits += report.RateLimitHits;
        _breakerRejections += report.BreakerRejections;
        _latency.Add(report.Duration);
        _limit.OnOutcome(report.Outcome.Status == ItemStatus.Succeeded, report.RateLimitHits > 0);
        Record(report.Outcome);
        Changed();
        if (!await FinishIfDoneAsync())
        {
            await PumpAsync();
        }
    }

    private async Task PumpAsync()
    {
        while (!record.State.CancelRequested && _inFlight < _limit.Effective && _next < _status.Length)
        {
            var position = _next++;
            if (_status[position] != ItemStatus.Pending)
            {
                continue;
            }

            _status[position] = ItemStatus.InFlight;
            _pending--;
            _inFlight++;
            Dispatch(position);
        }

        Changed();
        await FinishIfDoneAsync();
    }

    private ItemWork Work(int position)
    {
        var spec = Spec;
        return new ItemWork(BatchId, position, spec.Items[position], spec.Processor, spec.ProcessorOptions, _limiters, spec.EffectiveBreaker, spec.Priority, spec.PermitTimeout);
    }

    /// <summary>Starts again every item in flight for longer than the check interval (its silo may have died).</summary>
    private Task RestartStalledAsync()
    {
        if (record.State.CancelRequested)
        {
            return Task.CompletedTask;
        }

        var stalledBefore = time.GetUtcNow() - _options.InFlightCheckInterval;
        foreach (var position in _dispatchedAt.Where(d => d.Value <= stalledBefore).Select(d => d.Key).ToList())
        {
            Dispatch(position);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Hands one item to its grain without waiting for it: the batch's turn must not include the item's activation, or
    /// the batch becomes a serial bottleneck. A start that does not arrive is repeated by <see cref="RestartStalledAsync"/>.
    /// </summary>
    private void Dispatch(int position)
    {
        _dispatchedAt[position] = time.GetUtcNow();
        var work = Work(position);
        _ = StartItemAsync(work);
    }

    private async Task StartItemAsync(ItemWork work)
    {
        try
        {
            await GrainFactory.GetGrain<IItemGrain>(work.ItemKey).StartAsync(work);
        }
        catch (Exception ex)
        {
            LogDispatchFailed(ex, BatchId, work.Position);
        }
    }

    private void Record(ItemOutcome outcome)
    {
        var position = outcome.Position;
        _dispatchedAt.Remove(position);
        switch (_status[position])
        {
            case ItemStatus.InFlight:
                _inFlight--;
                break;
            case ItemStatus.Pending:
                _pending--;
                break;
        }

        _status[position] = outcome.Status;
        record.State.Outcomes[position] = outcome;
        Count(outcome.Status);
        AdvanceCompletedPrefix();
        _dirty = true;
    }

    /// <summary>Moves the end of the in-order readable results past every consecutive outcome.</summary>
    private void AdvanceCompletedPrefix()
    {
        while (_completedPrefix < _status.Length && record.State.Outcomes[_completedPrefix] is not null)
        {
            _completedPrefix++;
        }
    }

    private void Count(ItemStatus status)
    {
        switch (status)
        {
            case ItemStatus.Succeeded:
                _succeeded++;
                break;
            case ItemStatus.Failed:
                _failed++;
                break;
            case ItemStatus.Cancelled:
                _cancelled++;
                break;
        }
    }

    private async Task<bool> FinishIfDoneAsync()
    {
        if (IsFinished)
        {
            return true;
        }

        if (_completedPrefix < _status.Length)
        {
            return false;
        }

        record.State.FinishedAt = time.GetUtcNow();
        _checkpointTimer?.Dispose();
        _inFlightTimer?.Dispose();
        await CheckpointAsync();
        LogFinished(BatchId, _succeeded, _failed, _cancelled);
        Changed();
        return true;
    }

    private void Restore()
    {
        var outcomes = record.State.Outcomes;
        _status = new ItemStatus[outcomes.Count];
        _pending = _succeeded = _failed = _cancelled = _inFlight = _next = _completedPrefix = 0;
        _dispatchedAt.Clear();
        var wasInFlight = record.State.InFlight.ToHashSet();
        for (var i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i] is { } outcome)
            {
                _status[i] = outcome.Status;
                Count(outcome.Status);
            }
            else if (wasInFlight.Contains(i))
            {
                _status[i] = ItemStatus.InFlight;
                _inFlight++;
                _dispatchedAt[i] = time.GetUtcNow();
            }
            else
            {
                _status[i] = ItemStatus.Pending;
                _pending++;
            }
        }

        AdvanceCompletedPrefix();

        _limit = new AdaptiveLimit(Spec.LocalLimit, _options.IncreaseAfterSuccesses);
        _limiters = Spec.AllLimiters;
    }

    private void StartCheckpoints()
    {
        _checkpointTimer = this.RegisterGrainTimer(
            CheckpointAsync,
            new GrainTimerCreationOptions { DueTime = _options.CheckpointInterval, Period = _options.CheckpointInterval });
        _inFlightTimer = this.RegisterGrainTimer(
            RestartStalledAsync,
            new GrainTimerCreationOptions { DueTime = _options.InFlightCheckInterval, Period = _options.InFlightCheckInterval });
    }

    private async Task CheckpointAsync()
    {
        // Timer ticks and request turns never interleave here, so there is at most one outstanding write.
        if (!_dirty && !IsFinished)
        {
            return;
        }

        record.State.InFlight = [.. _dispatchedAt.Keys];
        try
        {
            await record.WriteStateAsync();
            _dirty = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Stays dirty: the next tick (or deactivation) writes again.
            LogCheckpointFailed(ex, BatchId);
        }
    }

    private BatchProgress Progress()
    {
        var spec = Spec;
        var now = time.GetUtcNow();
        var done = _succeeded + _failed + _cancelled;
        var elapsed = ((record.State.FinishedAt ?? now) - record.State.SubmittedAt).TotalSeconds;
        var rate = elapsed > 0 ? done / elapsed : 0;
        var remaining = spec.Items.Count - done;
        return new BatchProgress
        {
            BatchId = BatchId,
            State = (IsFinished, record.State.CancelRequested) switch
            {
                (true, true) => BatchState.Cancelled,
                (true, false) => BatchState.Completed,
                (false, true) => BatchState.Cancelling,
                _ => BatchState.Running,
            },
            Total = spec.Items.Count,
            Pending = _pending,
            InFlight = _inFlight,
            Succeeded = _succeeded,
            Failed = _failed,
            Cancelled = _cancelled,
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
            FinishedAt = record.State.FinishedAt,
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} resumes after losing its activation: {Pending} item(s) to run")]
    private partial void LogResuming(string batchId, int pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: cancel did not reach item {Position}")]
    private partial void LogCancelFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: checkpoint failed; retrying at the next one")]
    private partial void LogCheckpointFailed(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} cancelling; {InFlight} item(s) in flight")]
    private partial void LogCancelling(string batchId, int inFlight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: outcome for position {Position} arrived for an unknown batch")]
    private partial void LogUnknownReport(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: item {Position} could not be started; it is retried at the next in-flight check")]
    private partial void LogDispatchFailed(Exception ex, string batchId, int position);
}
