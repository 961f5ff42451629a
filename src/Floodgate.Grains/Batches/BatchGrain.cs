using Floodgate.Batches;
using Floodgate.Client.References;
using Floodgate.Grains.Batches.Chunks;
using Floodgate.Grains.Batches.Index;
using Floodgate.Grains.Items;
using Floodgate.Grains.Processors;
using Floodgate.Grains.Telemetry;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Floodgate.Grains.Batches;

/// <summary>
/// Runs one batch: receives its items in chunks (each stored once, as it arrives), dispatches at most the effective
/// local limit of items to item grains, keeps each item's single outcome by position (bookkeeping in
/// <see cref="BatchLedger"/>, outcomes in <see cref="OutcomeStore"/>), serves progress and the durable in-order results
/// from any position (long polls, so the SDK can stream), cancels, retries failed items, and deletes itself once its
/// retention has passed. Its own record holds only counters and cursors (<see cref="BatchRecord"/>).
/// An unfinished batch holds a reminder, so that it finishes after its silo died even if nobody calls it.
/// Not reentrant: only the long polls interleave, and they only read. Item calls are never awaited in a turn (an item
/// waits on its batch when it reports, and its deactivation waits for that report).
/// This file: the grain's calls; the other parts: writes and lifecycle (<c>BatchGrain.Storage.cs</c>), dispatch
/// (<c>BatchGrain.Dispatch.cs</c>) and log messages.
/// </summary>
internal sealed partial class BatchGrain(
    [PersistentState("batch-state")] IPersistentState<BatchRecord> record,
    IGrainStorage storage,
    ProcessorRegistry processors,
    GrainReferences references,
    IOptions<BatchOptions> options,
    TimeProvider time,
    FloodgateMetrics metrics,
    ILogger<BatchGrain> logger) : Grain, IBatchGrain, IBatchItemEvents, IRemindable
{
    private readonly BatchOptions _options = options.Value;
    private readonly LatencyWindow _latency = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();
    private BatchLedger? _ledger;
    private ItemStore? _items;
    private OutcomeStore? _outcomes;
    private BatchIndexPublisher? _index;
    private AdaptiveLimit _limit = new(1, 1);
    private IReadOnlyList<string> _limiters = [];
    private int _retries;
    private int _rateLimitHits;
    private int _breakerRejections;
    private long _version;
    private DateTimeOffset? _finishedAt;
    private DateTimeOffset _lastAccess;
    private DateTimeOffset _lastReceivedAt;
    private bool _finished;
    private bool _fenced;
    private bool _deleting;

    /// <summary>A retry's rebuild from storage is running: no ledger until it is done; progress comes from <see cref="_beforeRetry"/>.</summary>
    private bool _rebuilding;
    private BatchProgress? _beforeRetry;

    /// <summary>Changes when outcomes that were durable stop being so (a retry erases failed ones): a read that spans it starts over.</summary>
    private int _generation;
    private FloodgateMetrics.RunningBatch? _running;
    private System.Diagnostics.Activity? _trace;

    private string BatchId => this.GetPrimaryKeyString();

    private BatchDefinition Definition =>
        !_deleting && record.State.Definition is { } definition ? definition : throw new FloodgateNotFoundException("batch", BatchId);

    private BatchLedger Ledger => _ledger ?? throw new FloodgateNotFoundException("batch", BatchId);

    public async Task<BatchOpened> OpenAsync(BatchDefinition definition, string uploadId, int? expectedItems = null)
    {
        Touch();
        if (_deleting)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' is being deleted; submit it again in a moment.");
        }

        if (record.State.Definition is not null)
        {
            // The same submission asking again (its first answer was lost) goes on; any other finds the batch as it is.
            var same = string.Equals(uploadId, record.State.UploadId, StringComparison.Ordinal);
            return new BatchOpened(Progress(), same ? uploadId : null, record.State.ChunkSize);
        }

        var errors = new List<string>(BatchSpecValidator.Validate(definition));
        if (Names.Check("Upload id", uploadId) is { } badUpload)
        {
            errors.Add(badUpload);
        }

        if (errors.Count == 0)
        {
            // Definition-level only: each chunk's items are checked against the processor as they arrive.
            errors.AddRange(processors.Validate(definition));
        }

        if (expectedItems is { } expected && (expected < 1 || expected > _options.MaxItems))
        {
            errors.Add(expected < 1 ? BatchSpecValidator.NoItems : TooMany(expected));
        }

        if (errors.Count > 0)
        {
            DeactivateOnIdle();
            throw new FloodgateValidationException(errors);
        }

        var warnings = new List<string>();
        if (definition.GlobalLimit is { } globalLimit)
        {
            var configuration = await GrainFactory.GetGrain<IGlobalLimiterGrain>(definition.Limiter).ConfigureAsync(globalLimit);
            if (configuration.Warning is { } warning)
            {
                warnings.Add(warning);
            }
        }

        // The reminder first: once the record exists, something must wake the batch after a loss.
        await KeepReminderAsync(UnfinishedReminder, _options.ReminderPeriod);
        var now = time.GetUtcNow();
        record.State = new BatchRecord
        {
            Definition = definition.ToDefinition(),
            SubmittedAt = now,
            Warnings = warnings,
            ChunkSize = _options.ChunkSize,
            UploadId = uploadId,
            LastReceivedAt = now,
        };
        Attach(BatchLedger.Create(_options.ChunkSize, BaseReservation(definition), time));
        _lastReceivedAt = now;

        // Before the first write: the items dispatched later become the span's children.
        _trace = FloodgateTracing.StartBatch(BatchId, expectedItems ?? 0, definition.Processor, definition.Limiter, resumed: false);
        try
        {
            await WriteRecordAsync(throwOnFailure: true);
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

        _running = metrics.BatchStarted(BatchId);
        StartInFlightChecks();
        PublishToIndex();
        return new BatchOpened(Progress(), record.State.UploadId, record.State.ChunkSize);
    }

    public async Task<BatchProgress> AppendItemsAsync(string uploadId, int chunk, IReadOnlyList<string> items, bool last)
    {
        Touch();
        _ = Definition;
        if (_rebuilding)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' has all its items.");
        }

        var ledger = Ledger;
        if (!string.Equals(uploadId, record.State.UploadId, StringComparison.Ordinal))
        {
            throw new FloodgateValidationException($"Batch '{BatchId}' is not receiving items under this upload id.");
        }

        if (chunk >= 0 && chunk < ledger.ReceivedChunks)
        {
            // Stored already: a repeated chunk whose first answer was lost.
            return Progress();
        }

        if (ledger.CancelRequested || ledger.Sealed)
        {
            throw new FloodgateConflictException(ledger.CancelRequested
                ? $"Batch '{BatchId}' was cancelled; it takes no more items."
                : $"Batch '{BatchId}' has all its items.");
        }

        if (CheckChunk(ledger, chunk, items, last) is { } problem)
        {
            throw new FloodgateValidationException(problem);
        }

        if (CheckItems(ledger, items, last) is { } bad)
        {
            // Earlier chunks may be stored and running: nothing of the batch may stay.
            await DiscardAsync($"invalid input: {bad}");
            throw new FloodgateValidationException($"{bad} The batch was discarded.");
        }

        if (processors.ValidateItems(Definition, items, ledger.Total) is { Count: > 0 } unfit)
        {
            await DiscardAsync("invalid input: items the processor cannot take");
            throw new FloodgateValidationException([.. unfit, "The batch was discarded."]);
        }

        await _items!.WriteAsync(chunk, items, last);
        ledger.Receive(items.Count, last);
        _lastReceivedAt = time.GetUtcNow();
        if (last)
        {
            LogSubmitted(BatchId, ledger.Total, Definition.Processor, Definition.Limiter, Definition.LocalLimit);
            FloodgateTracing.SetBatchItems(_trace, ledger.Total);
            PublishToIndex();
        }

        Pump();
        return Progress();
    }

    public async Task AbortUploadAsync(string uploadId)
    {
        if (record.State.Definition is null || _deleting)
        {
            return;
        }

        if (!string.Equals(uploadId, record.State.UploadId, StringComparison.Ordinal))
        {
            throw new FloodgateValidationException($"Batch '{BatchId}' is not receiving items under this upload id.");
        }

        if (_rebuilding || Ledger.Sealed)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' has all its items; cancel it instead.");
        }

        await DiscardAsync("its submission was aborted");
    }

    public Task<BatchProgress> GetProgressAsync()
    {
        Touch();
        _ = Definition;
        return Task.FromResult(Progress());
    }

    public async Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        Touch();
        _ = Definition;
        var deadline = time.GetUtcNow() + ClampWait(maxWait);
        while (_version <= afterVersion && !_finished && await WaitForChangeAsync(deadline, cancellationToken))
        {
        }

        return Progress();
    }

    public async Task<ResultPage> ReadResultsAsync(int fromPosition, int maxCount, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        Touch();
        _ = Definition;
        if (fromPosition < 0 || (_ledger is { Sealed: true } sealedLedger && fromPosition > sealedLedger.Total))
        {
            throw new FloodgateValidationException($"Position must be between 0 and {_ledger?.Total ?? 0} (got {fromPosition}).");
        }

        if (maxCount < 1)
        {
            throw new FloodgateValidationException($"Page size must be at least 1 (got {maxCount}).");
        }

        // Only durable outcomes are served: what a reader saw never changes, whatever happens to this activation.
        var deadline = time.GetUtcNow() + ClampWait(maxWait);
        while (true)
        {
            while (!CanAnswer(fromPosition) && await WaitForChangeAsync(deadline, cancellationToken))
            {
            }

            if (_ledger is not { } ledger || _outcomes is not { } outcomes)
            {
                // Still preparing a retry when the wait ran out.
                return new ResultPage([], fromPosition, IsComplete: false);
            }

            var generation = _generation;
            var count = Math.Min(Math.Min(maxCount, _options.MaxResultPage), Math.Max(0, ledger.DurablePrefix - fromPosition));
            var page = count == 0 ? [] : await outcomes.ReadAsync(fromPosition, count, ledger.DurablePrefix, ledger.CancelledFrom);
            if (generation != _generation)
            {
                continue;
            }

            var next = fromPosition + page.Count;
            return new ResultPage(page, next, ledger.Sealed && next >= ledger.Total);
        }
    }

    public Task<BatchProgress> CancelAsync()
    {
        Touch();
        _ = Definition;
        if (_rebuilding)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' is preparing a retry; cancel it in a moment.");
        }

        var ledger = Ledger;
        if (_finished || ledger.CancelRequested)
        {
            return Task.FromResult(Progress());
        }

        var cancel = ledger.Cancel();
        LogCancelling(BatchId, cancel.InFlight.Count);
        foreach (var position in cancel.Undispatched)
        {
            RecordOutcome(ItemOutcome.Cancelled(position, 0));
        }

        foreach (var position in cancel.InFlight)
        {
            _ = CancelItemAsync(position);
        }

        Changed();
        RequestWrite();
        PublishToIndex();
        return Task.FromResult(Progress());
    }

    public async Task<BatchProgress> RetryFailedAsync()
    {
        Touch();
        _ = Definition;
        if (_rebuilding || !_finished)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' is still running; retry runs the failed items of a finished batch.");
        }

        var ledger = Ledger;
        if (ledger.CancelRequested)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' was cancelled; only the failed items of a completed batch can be retried.");
        }

        if (ledger.Failed == 0)
        {
            throw new FloodgateConflictException($"Batch '{BatchId}' has no failed items.");
        }

        // Durable first: a successor that finds RetryPending finishes erasing the failed outcomes and runs them.
        var finished = record.State;
        var retrying = finished.Copy();
        retrying.RetryPending = true;
        retrying.FinishedAt = null;
        retrying.RetryRounds++;
        record.State = retrying;
        try
        {
            await record.WriteStateAsync();
        }
        catch
        {
            record.State = finished;
            throw;
        }

        var progress = Progress();
        _beforeRetry = progress with
        {
            State = BatchState.Running,
            Pending = progress.Failed,
            Failed = 0,
            FinishedAt = null,
            RetryRounds = retrying.RetryRounds,
        };
        LogRetrying(BatchId, ledger.Failed, retrying.RetryRounds);
        BeginRebuild();
        _running = metrics.BatchResumed(BatchId);
        _trace = FloodgateTracing.StartBatch(BatchId, ledger.Total, Definition.Processor, Definition.Limiter, resumed: true);
        await KeepReminderAsync(UnfinishedReminder, _options.ReminderPeriod);
        _ = ForgetReminderAsync(ExpiryReminder);
        PublishToIndex();
        return Progress();
    }

    public Task ReportOutcomesAsync(IReadOnlyList<ItemReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var accepted = false;
        foreach (var report in reports)
        {
            accepted |= Accept(report);
        }

        if (accepted)
        {
            // One dispatch round for the whole group: the freed places are filled together.
            Pump();
        }

        return Task.CompletedTask;
    }

    /// <summary>Takes an item's outcome report; false when it changes nothing (stale, unknown batch, or a repeat).</summary>
    private bool Accept(ItemReport report)
    {
        if (_rebuilding)
        {
            // From a run before the retry (the batch had finished): its outcome is in storage already.
            LogStaleReport(BatchId, report.Outcome.Position);
            return false;
        }

        if (_ledger is null)
        {
            LogUnknownReport(BatchId, report.Outcome.Position);
            DeactivateOnIdle();
            return false;
        }

        // Exactly one outcome per item: a late or repeated report changes nothing.
        if (!RecordOutcome(report.Outcome))
        {
            return false;
        }

        _retries += report.Retries;
        _rateLimitHits += report.RateLimitHits;
        _breakerRejections += report.BreakerRejections;
        _latency.Add(report.Duration);
        _limit.OnOutcome(report.Outcome.Status == ItemStatus.Succeeded, report.RateLimitHits > 0);
        return true;
    }

    public Task ReportInterruptedAsync(int position)
    {
        if (_ledger is { } ledger && OnNotRunning(ledger, position, dispatchId: null))
        {
            LogInterrupted(BatchId, position);
        }

        return Task.CompletedTask;
    }

    /// <summary>Accepts an outcome as the position's one outcome and queues it for writing; false when it had one.</summary>
    private bool RecordOutcome(ItemOutcome outcome)
    {
        if (!Ledger.Record(outcome))
        {
            return false;
        }

        _outcomes!.Add(outcome);
        return true;
    }

    /// <summary>A read from <paramref name="position"/> has something to return: a durable outcome, or the end of the batch.</summary>
    private bool CanAnswer(int position) =>
        _ledger is { } ledger && (ledger.DurablePrefix > position || (ledger.Sealed && position >= ledger.Total));

    private string? CheckChunk(BatchLedger ledger, int chunk, IReadOnlyList<string>? items, bool last)
    {
        if (chunk != ledger.ReceivedChunks)
        {
            return $"Chunk {chunk} arrived out of order; chunk {ledger.ReceivedChunks} is next.";
        }

        if (items is null || items.Count == 0)
        {
            return "A chunk needs at least one item.";
        }

        return items.Count > ledger.ChunkSize || (!last && items.Count != ledger.ChunkSize)
            ? $"Every chunk but the last holds exactly {ledger.ChunkSize} items, the last at most that many (got {items.Count})."
            : null;
    }

    private string? CheckItems(BatchLedger ledger, IReadOnlyList<string> items, bool last)
    {
        if ((long)ledger.Total + items.Count > _options.MaxItems)
        {
            return TooMany(last ? ledger.Total + items.Count : null);
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (BatchSpecValidator.CheckItem(items[i], ledger.Total + i) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>The problem of a batch over <see cref="BatchOptions.MaxItems"/>; <paramref name="count"/> null while more are coming.</summary>
    private string TooMany(long? count) => $"A batch may hold at most {_options.MaxItems} items (got {(count is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "more")}).";

    private BatchProgress Progress()
    {
        if (_rebuilding && _beforeRetry is { } beforeRetry)
        {
            return beforeRetry with { Version = _version };
        }

        var definition = Definition;
        var ledger = Ledger;
        var now = time.GetUtcNow();
        var done = ledger.Done;
        var finishedAt = _finished ? _finishedAt : null;
        var elapsed = ((finishedAt ?? now) - record.State.SubmittedAt).TotalSeconds;
        var rate = elapsed > 0 ? done / elapsed : 0;
        var remaining = ledger.Total - done;
        return new BatchProgress
        {
            BatchId = BatchId,
            State = (_finished, ledger.CancelRequested) switch
            {
                (true, true) => BatchState.Cancelled,
                (true, false) => BatchState.Completed,
                (false, true) => BatchState.Cancelling,
                _ => BatchState.Running,
            },
            Total = ledger.Total,

            // Positions a lost predecessor may have left running are pending until their item answers.
            Pending = ledger.Pending + ledger.Unconfirmed,
            InFlight = ledger.InFlight,
            Succeeded = ledger.Succeeded,
            Failed = ledger.Failed,
            Cancelled = ledger.Cancelled,
            LocalLimit = definition.LocalLimit,
            EffectiveLocalLimit = _limit.Effective,
            Retries = _retries,
            RateLimitHits = _rateLimitHits,
            BreakerRejections = _breakerRejections,
            ItemsPerSecond = rate,
            Eta = remaining == 0 && ledger.Sealed ? TimeSpan.Zero : rate > 0 && ledger.Sealed ? TimeSpan.FromSeconds(remaining / rate) : null,
            AverageLatency = _latency.Average,
            P95Latency = _latency.P95,
            Limiter = definition.Limiter,
            Warnings = record.State.Warnings.ToList(),
            Version = _version,
            SubmittedAt = record.State.SubmittedAt,
            FinishedAt = finishedAt,
            IsReceiving = !ledger.Sealed,
            RetryRounds = record.State.RetryRounds,
        };
    }

    private void Touch() => _lastAccess = time.GetUtcNow();

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
}
