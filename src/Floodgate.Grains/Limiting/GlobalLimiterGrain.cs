using Floodgate.Catalog;
using Floodgate.Grains.Telemetry;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// The account-wide permit authority. Reentrant: a waiting <see cref="AcquireAsync"/> must not block the release that
/// would wake it. Bookkeeping lives in <see cref="PermitLedger"/> and runs synchronously between awaits.
/// <para>Durability: the lease table is persisted. A grant or a renewal is answered only after a write that contains
/// it has succeeded (those of one moment share one write: <see cref="GroupCommit"/>); releases and expiries are written
/// lazily, every <see cref="LimiterOptions.PersistInterval"/> (a lost one only over-counts). A successor therefore knows
/// every lease that may be alive and the latest expiry its holder was promised, and grants at once: after a clean
/// hand-over or an unclean loss alike, each lease counts until its persisted expiry unless its holder releases or
/// renews it sooner.</para>
/// <para>Fencing: each activation claims an epoch with an ETag-checked write and every later write is ETag-checked; an
/// activation whose write is rejected stops granting and deactivates. A permit is only ever granted after a successful
/// write under the current claim.</para>
/// <para>Shutdown: when the silo begins to stop, the limiter stops granting, answers its waiters "moved" (they retry and
/// reach the successor), and deactivates; its last write hands the table over.</para>
/// </summary>
[Reentrant]
internal sealed partial class GlobalLimiterGrain(
    [PersistentState("limiter")] IPersistentState<LimiterRecord> record,
    IOptions<LimiterOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    FloodgateMetrics metrics,
    ILogger<GlobalLimiterGrain> logger) : Grain, IGlobalLimiterGrain
{
    private readonly LimiterOptions _options = options.Value;
    private PermitLedger _ledger = null!;
    private GroupCommit _commit = null!;
    private LimitsState _limits = null!;
    private IGrainTimer? _wakeTimer;
    private DateTimeOffset? _wakeAt;
    private CancellationTokenRegistration _stopping;
    private IDisposable? _gauges;
    private long _expirationsCounted;
    private long _persistedVersion = -1;
    private DateTimeOffset _lastWriteAt;
    private long _epoch;
    private bool _fenced;
    private bool _handingOver;
    private bool _finalWrite;

    private string Name => this.GetPrimaryKeyString();

    private LimitSource Source => _limits.MaxConcurrency is null
        ? (_options.ConfiguredLimitFor(Name) is null ? LimitSource.Default : LimitSource.Configuration)
        : _limits.Source;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stored = record.State;
        _limits = new LimitsState(stored.MaxConcurrency, stored.Source, stored.RequestsPerMinute, stored.RateSafetyFactor, stored.TokensPerMinute);
        _ledger = new PermitLedger(Name, time);
        _ledger.Backoff.IncreaseAfterSuccesses = _options.BackoffIncreaseAfterSuccesses;
        _ledger.Backoff.MaxPause = _options.BackoffMaxPause;
        _ledger.Backoff.DefaultPause = _options.RetryAfterHint;
        _ledger.SetMaxConcurrency(_limits.MaxConcurrency ?? _options.ConfiguredLimitFor(Name) ?? _options.DefaultMaxConcurrency);
        ApplyRate();

        // Every grant and renewal was written before it was answered (a fenced duplicate's writes fail, so it promised
        // nothing), so each persisted expiry is the latest any holder was given: it counts until then, whether the
        // predecessor handed over cleanly or was lost.
        var uncleanLoss = stored.Active;
        _ledger.Restore(stored.ReadLeases(), stored.RateHistory);
        _ledger.RestoreUpstreamState(stored.TokenHistory, stored.BackoffLimit, stored.PausedUntil);

        _epoch = stored.Epoch + 1;
        _commit = new GroupCommit(WriteAsync);
        // The claim: if another activation wrote since we read, this throws and this activation never starts.
        await _commit.FlushAsync();
        _gauges = metrics.TrackLimiter(Name, () => new LimiterFigures(_ledger.MaxConcurrency, _ledger.InUse, _ledger.Waiting));
        GrainFactory.GetGrain<ICatalogGrain>(CatalogKeys.Limiters).RegisterAsync(Name).Ignore();
        if (uncleanLoss)
        {
            LogTookOverUnclean(Name, _epoch, _ledger.LeaseCount, _ledger.InUse);
        }
        else if (_ledger.LeaseCount > 0)
        {
            LogTookOver(Name, _epoch, _ledger.LeaseCount, _ledger.InUse);
        }

        var sweep = _options.PersistInterval < _options.ConfirmInterval ? _options.PersistInterval : _options.ConfirmInterval;
        this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions { DueTime = sweep, Period = sweep, Interleave = true });
        var scheduler = TaskScheduler.Current;
        _stopping = lifetime.ApplicationStopping.Register(() =>
            Task.Factory.StartNew(BeginHandOver, CancellationToken.None, TaskCreationOptions.None, scheduler));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _stopping.DisposeAsync();
        _gauges?.Dispose();
        BeginHandOver();
        if (_fenced || !_options.HandOverOnDeactivation)
        {
            return;
        }

        try
        {
            _ledger.ExpireDue();
            _finalWrite = true;
            await _commit.FlushAsync().WaitAsync(cancellationToken);
            LogHandedOver(Name, _ledger.LeaseCount, reason.ReasonCode.ToString());
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The successor then treats this as an unclean loss: it counts the persisted leases one TTL longer.
            LogHandOverFailed(ex, Name);
        }
    }

    public async Task<LimiterConfiguration> ConfigureAsync(int maxConcurrency)
    {
        LimiterLimitsValidator.ThrowIfInvalid(new LimiterLimits(maxConcurrency));
        ThrowIfMoved();
        if (_limits.MaxConcurrency is { } current)
        {
            if (current == maxConcurrency)
            {
                return new LimiterConfiguration(current, _limits.Source, null);
            }

            var warning = $"Limiter '{Name}' already has limit {current} ({_limits.Source}); the requested {maxConcurrency} was not applied.";
            LogConflictingLimit(Name, current, maxConcurrency);
            return new LimiterConfiguration(current, _limits.Source, warning);
        }

        _limits = _limits with { MaxConcurrency = maxConcurrency, Source = LimitSource.Explicit };
        _ledger.SetMaxConcurrency(maxConcurrency);
        await FlushOrMovedAsync();
        return new LimiterConfiguration(maxConcurrency, LimitSource.Explicit, null);
    }

    public async Task<AcquireResult> AcquireAsync(AcquireRequest request, CancellationToken cancellationToken = default)
    {
        var ttl = ValidateAcquire(request);
        var askedAt = time.GetUtcNow();
        if (_ledger.Stopped)
        {
            return Moved();
        }

        _ledger.ExpireDue();
        if (request.RequestId is { } requestId)
        {
            if (_ledger.LeaseOf(requestId) is { } granted)
            {
                // A repeated acquire (a retry after a fault, or the next call of a detached waiter): hand the lease out
                // again once it is durable.
                return await CommitGrantAsync(granted, request, _ledger.Delivered(requestId), cancellationToken);
            }

            if (_ledger.IsCancelled(requestId))
            {
                return Cancelled(requestId);
            }

            if (_ledger.WaiterOf(requestId) is { } queued)
            {
                // The caller of a waiter answered "still queued" is back: it keeps its place.
                return await WaitThenCommitAsync(queued, request, cancellationToken);
            }
        }

        var lease = _ledger.TryAcquire(request.Holder, request.Weight, ttl, request.RequestId, request.Tokens);
        if (lease is not null)
        {
            return await CommitGrantAsync(lease, request, askedAt, cancellationToken);
        }

        if (request.WaitTimeout == TimeSpan.Zero)
        {
            return Unavailable(request.Tokens);
        }

        // A wait outlives one call, so it needs an id to be found again by the next call; the answer carries it.
        var id = request.RequestId ?? AcquireRequest.NewRequestId();
        var waiter = _ledger.Enqueue(request.Holder, request.Weight, ttl, request.Priority, id, request.Tokens, request.WaitTimeout);
        return await WaitThenCommitAsync(waiter, request with { RequestId = id }, cancellationToken);
    }

    public Task<bool> CancelAcquireAsync(string requestId)
    {
        RequestIds.Require(requestId);
        ThrowIfMoved();
        var undone = _ledger.CancelRequest(requestId);
        ScheduleWake();
        return Task.FromResult(undone);
    }

    public async Task<Lease?> RenewAsync(RenewRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        LeaseIds.Require(request.LeaseId);
        ThrowIfMoved();
        var renewed = _ledger.Renew(request.LeaseId, request.Holder);
        if (renewed is not null)
        {
            // Like a grant, a renewal is answered only once it is durable (renewals of one moment share a write): a
            // successor then knows every expiry a holder was promised, even after a crash, and need count no lease longer.
            await FlushOrMovedAsync();
        }

        return renewed;
    }

    public Task<bool> ReleaseAsync(string leaseId)
    {
        LeaseIds.Require(leaseId);
        ThrowIfMoved();
        return Task.FromResult(Release(leaseId));
    }

    public Task ReleaseManyAsync(IReadOnlyList<string> leaseIds)
    {
        LeaseIds.RequireAll(leaseIds);
        ThrowIfMoved();
        foreach (var leaseId in leaseIds)
        {
            Release(leaseId);
        }

        return Task.CompletedTask;
    }

    public Task ReleaseOneWayAsync(string leaseId)
    {
        // Nobody hears an answer or an error. A fenced activation changes nothing: the owner counts the lease until its
        // expiry, as it would for a release lost on the way.
        if (LeaseIds.Check(leaseId) is null && !_fenced)
        {
            Release(leaseId);
        }

        return Task.CompletedTask;
    }

    public Task ReportUsageAsync(UsageReport report)
    {
        ValidateReport(report);
        ThrowIfMoved();
        _ledger.ReportUsage(report);
        ScheduleWake();
        return Task.CompletedTask;
    }

    public async Task<LimiterStatus> SetLimitsAsync(LimiterLimits limits)
    {
        LimiterLimitsValidator.ThrowIfInvalid(limits);
        ThrowIfMoved();
        _limits = new LimitsState(limits.MaxConcurrency, LimitSource.Admin, limits.RequestsPerMinute, limits.RateSafetyFactor, limits.TokensPerMinute);
        // Apply in memory first so grants follow at once.
        _ledger.SetMaxConcurrency(limits.MaxConcurrency);
        ApplyRate();
        ScheduleWake();
        await FlushOrMovedAsync();
        LogLimitChanged(Name, limits.MaxConcurrency, limits.RequestsPerMinute);
        return Snapshot();
    }

    public Task<LimiterStatus> GetStatusAsync()
    {
        _ledger.ExpireDue();
        return Task.FromResult(Snapshot());
    }

    private async Task<AcquireResult> WaitThenCommitAsync(PermitLedger.Waiter waiter, AcquireRequest request, CancellationToken cancellationToken)
    {
        var waited = await WaitAsync(waiter, request, cancellationToken);
        return waited.Lease is { } lease ? await CommitGrantAsync(lease, request, waiter.EnqueuedAt, cancellationToken) : waited;
    }

    /// <summary>
    /// Waits in the queue for at most one slice (<see cref="LimiterOptions.MaxRequestHold"/>): Orleans deactivates an
    /// activation only once no request runs in it, so a call held for a long wait would hold up a shutdown, a migration
    /// or the move after a lost directory entry, and every message queued behind it. Returns the granted (not yet
    /// durable) lease, "still queued" (the waiter keeps its place for the caller's next call), or a failure.
    /// </summary>
    private async Task<AcquireResult> WaitAsync(PermitLedger.Waiter waiter, AcquireRequest request, CancellationToken cancellationToken)
    {
        // The grant completes this call's task directly (no task wrapped around the waiter's): one hop less from the
        // release that frees the permit to the grant's write. A timer ends the slice, the caller's token cancels.
        var call = new TaskCompletionSource<Lease?>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiter.Attach(call);
        ScheduleWake();
        var now = time.GetUtcNow();
        var callDeadline = now + request.WaitTimeout;
        var deadline = waiter.Deadline < callDeadline ? waiter.Deadline : callDeadline;
        var left = deadline - now;
        var slice = left < _options.MaxRequestHold ? left : _options.MaxRequestHold;
        Lease? granted;
        try
        {
            using (time.CreateTimer(static c => ((TaskCompletionSource<Lease?>)c!).TrySetResult(null), call, slice > TimeSpan.Zero ? slice : TimeSpan.Zero, Timeout.InfiniteTimeSpan))
            using (cancellationToken.UnsafeRegister(static c => ((TaskCompletionSource<Lease?>)c!).TrySetCanceled(), call))
            {
                granted = await call.Task;
            }
        }
        catch (LimiterMovedException)
        {
            return Moved();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (!_ledger.Abandon(waiter, timedOut: false) && waiter.Task.IsCompletedSuccessfully)
            {
                _ledger.Release(waiter.Task.Result.LeaseId);
            }

            throw;
        }
        catch (OperationCanceledException) when (waiter.Task.IsCanceled)
        {
            // Its request id was cancelled while it waited (CancelAcquireAsync).
            return Cancelled(request.RequestId);
        }

        if (granted is not null)
        {
            return AcquireResult.Success(granted, 0);
        }

        // The slice is over.
        if (slice < left && !waiter.Task.IsCompleted)
        {
            _ledger.Detach(waiter);
            return AcquireResult.StillQueued(waiter.RequestId!, Available);
        }

        if (_ledger.Abandon(waiter, timedOut: true))
        {
            return Unavailable(request.Tokens);
        }

        // Completed in the same turn the wait ran out: granted (the caller gets the lease rather than a leak), moved, or
        // failed by a limit change.
        return waiter.Task.IsCompletedSuccessfully
            ? AcquireResult.Success(waiter.Task.Result, 0)
            : waiter.Task.Exception?.InnerException is FloodgateValidationException invalid
                ? throw invalid
                : Moved();
    }

    /// <summary>
    /// Makes a grant durable before it is returned; re-checks everything that may have changed meanwhile. A first delivery
    /// (<paramref name="askedAt"/> set) is counted as a grant with its wait.
    /// </summary>
    private async Task<AcquireResult> CommitGrantAsync(Lease lease, AcquireRequest request, DateTimeOffset? askedAt, CancellationToken cancellationToken)
    {
        try
        {
            await _commit.FlushAsync();
        }
        catch (InconsistentStateException)
        {
            return Moved();
        }
        catch (Exception ex)
        {
            // Not durable, so not granted. Storage may still hold it: a successor then over-counts it until its TTL.
            _ledger.Release(lease.LeaseId);
            LogGrantNotRecorded(ex, Name);
            return AcquireResult.Fail(AcquireFailure.Unavailable, $"Limiter '{Name}' could not record the grant; try again.", _options.RetryAfterHint, Available);
        }

        if (_fenced)
        {
            return Moved();
        }

        if (!_ledger.Holds(lease.LeaseId))
        {
            // Cancelled by its request id (or released) while the write ran.
            return Cancelled(request.RequestId);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // The caller is gone: nobody would hold this lease.
            _ledger.Release(lease.LeaseId);
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (askedAt is { } asked)
        {
            metrics.Granted(Name, time.GetUtcNow() - asked);
        }

        return AcquireResult.Success(lease, Available);
    }

    private bool Release(string leaseId)
    {
        var released = _ledger.Release(leaseId);
        ScheduleWake();
        return released;
    }

    private LimiterStatus Snapshot() => _ledger.Snapshot(Source, _epoch);

    private void ApplyRate()
    {
        // An administrator's rate replaces configuration; an administrator's change without a rate removes it.
        var admin = _limits.Source == LimitSource.Admin;
        var factor = _limits.RateSafetyFactor ?? _options.RateSafetyFactor;
        _ledger.SetRate(admin ? _limits.RequestsPerMinute : _options.ConfiguredRateFor(Name), factor);
        _ledger.SetTokenRate(admin ? _limits.TokensPerMinute : _options.ConfiguredTokenRateFor(Name), factor);
    }

    private async Task SweepAsync()
    {
        var expired = _ledger.ExpireDue();
        if (expired > 0)
        {
            LogLeasesExpired(Name, expired);
        }

        var (waiters, grants) = _ledger.DropAbandoned(_options.AbandonedWaiterGrace);
        if (waiters + grants > 0)
        {
            LogAbandonedDropped(Name, waiters, grants);
        }

        // Counted here for every path that expires leases (acquire, status and sweep all call ExpireDue).
        metrics.Expired(Name, _ledger.Expirations - _expirationsCounted);
        _expirationsCounted = _ledger.Expirations;

        _ledger.Pump();
        ScheduleWake();
        if (_fenced || _commit.Writing)
        {
            return;
        }

        // Lazy persistence of releases, renewals and expiries; an idle activation still re-confirms its claim.
        if (_ledger.Version != _persistedVersion || time.GetUtcNow() - _lastWriteAt >= _options.ConfirmInterval)
        {
            try
            {
                await _commit.FlushAsync();
            }
            catch (Exception ex) when (ex is not InconsistentStateException)
            {
                LogPersistFailed(ex, Name);
            }
            catch (InconsistentStateException)
            {
                // Fenced: handled in WriteAsync.
            }
        }
    }

    /// <summary>Waiters blocked only by time (the rate window) are woken exactly when that time comes.</summary>
    private void ScheduleWake()
    {
        var wakeAt = _ledger.WakeAt;
        if (wakeAt is null || wakeAt == _wakeAt)
        {
            return;
        }

        _wakeAt = wakeAt;
        var due = wakeAt.Value - time.GetUtcNow();
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        _wakeTimer ??= this.RegisterGrainTimer(WakeAsync, new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true });
        _wakeTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private Task WakeAsync()
    {
        _wakeAt = null;
        _ledger.Pump();
        ScheduleWake();
        return Task.CompletedTask;
    }

    /// <summary>Stops granting and sends the waiters to the successor; the deactivation's last write hands the table over.</summary>
    private void BeginHandOver()
    {
        if (_handingOver)
        {
            return;
        }

        _handingOver = true;
        _ledger.StopGranting(() => new LimiterMovedException(Name));
        DeactivateOnIdle();
    }

    /// <summary>
    /// The one writer of <see cref="LimiterRecord"/> (run by <see cref="GroupCommit"/>, one at a time): the state object
    /// is filled right before each write, so nothing changes it while a write is in flight. A rejected write means another
    /// activation owns the limiter.
    /// </summary>
    private async Task WriteAsync()
    {
        var version = _ledger.Version;
        var state = record.State;
        state.MaxConcurrency = _limits.MaxConcurrency;
        state.Source = _limits.Source;
        state.RequestsPerMinute = _limits.RequestsPerMinute;
        state.RateSafetyFactor = _limits.RateSafetyFactor;
        state.Epoch = _epoch;
        state.Active = !_finalWrite;
        state.LeaseTable = _ledger.EncodeLeases();
        // The hand-over write also carries the table as a list, which builds before the encoded table read: in a rolling
        // deploy such a successor takes over every lease instead of seeing none.
        state.Leases = _finalWrite ? _ledger.SnapshotLeases() : [];
        state.RateHistory = _ledger.Rate.Snapshot();
        state.TokensPerMinute = _limits.TokensPerMinute;
        state.TokenHistory = _ledger.Tokens.Snapshot();
        state.BackoffLimit = _ledger.Backoff.Limit;
        state.PausedUntil = _ledger.Backoff.IsPaused ? _ledger.Backoff.PausedUntil : null;
        try
        {
            await record.WriteStateAsync();
            _persistedVersion = Math.Max(_persistedVersion, version);
            _lastWriteAt = time.GetUtcNow();
        }
        catch (InconsistentStateException)
        {
            if (!_fenced)
            {
                _fenced = true;
                LogFenced(Name, _epoch);
                _ledger.StopGranting(() => new LimiterMovedException(Name));
                DeactivateOnIdle();
            }

            throw;
        }
    }

    private async Task FlushOrMovedAsync()
    {
        try
        {
            await _commit.FlushAsync();
        }
        catch (InconsistentStateException)
        {
            throw new LimiterMovedException(Name);
        }
    }

    /// <summary>A fenced activation changes nothing: the caller retries and reaches the activation that owns the limiter.</summary>
    private void ThrowIfMoved()
    {
        if (_fenced)
        {
            throw new LimiterMovedException(Name);
        }
    }

    private TimeSpan ValidateAcquire(AcquireRequest request)
    {
        if (request is null)
        {
            throw new FloodgateValidationException("An acquire request is required.");
        }

        var errors = new List<string>();
        if (Names.Check("Holder", request.Holder) is { } holderProblem)
        {
            errors.Add(holderProblem);
        }

        if (request.Weight <= 0 || request.Weight > _ledger.MaxConcurrency)
        {
            errors.Add($"Weight must be between 1 and the limit of '{Name}' ({_ledger.MaxConcurrency}); got {request.Weight}.");
        }
        else if (!_ledger.CouldEverGrant(request.Weight))
        {
            errors.Add($"Weight {request.Weight} is above the request budget of '{Name}' ({_ledger.Rate.Budget} per minute): it could never be granted.");
        }

        if (request.WaitTimeout < TimeSpan.Zero || request.WaitTimeout > _options.MaxWaitTimeout)
        {
            errors.Add($"Wait timeout must be between 0 and {_options.MaxWaitTimeout}; got {request.WaitTimeout}.");
        }

        if (!Enum.IsDefined(request.Priority))
        {
            errors.Add($"Priority must be Low, Normal or High; got {(int)request.Priority}.");
        }

        var ttl = request.LeaseTtl ?? _options.DefaultLeaseTtl;
        if (ttl < _options.MinLeaseTtl || ttl > _options.MaxLeaseTtl)
        {
            errors.Add($"Lease TTL must be between {_options.MinLeaseTtl} and {_options.MaxLeaseTtl}; got {ttl}.");
        }

        if (request.Tokens < 0)
        {
            errors.Add($"Tokens must not be negative; got {request.Tokens}.");
        }
        else if (!_ledger.CouldEverCharge(request.Tokens))
        {
            errors.Add($"An estimate of {request.Tokens} tokens is above the token budget of '{Name}' ({_ledger.Tokens.Budget} per minute): it could never be granted.");
        }

        if (request.RequestId is not null && RequestIds.Check(request.RequestId) is { } requestIdProblem)
        {
            errors.Add(requestIdProblem);
        }

        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        return ttl;
    }

    private static void ValidateReport(UsageReport report)
    {
        if (report is null)
        {
            throw new FloodgateValidationException("A usage report is required.");
        }

        var errors = new List<string>();
        if (Names.Check("Holder", report.Holder) is { } holderProblem)
        {
            errors.Add(holderProblem);
        }

        if (report.LeaseId is { } leaseId && LeaseIds.Check(leaseId) is { } leaseIdProblem)
        {
            errors.Add(leaseIdProblem);
        }

        if (!Enum.IsDefined(report.Outcome))
        {
            errors.Add($"Outcome must be Completed, UpstreamRateLimited or Rejected; got {(int)report.Outcome}.");
        }

        if (report.Tokens < 0)
        {
            errors.Add($"Tokens must not be negative; got {report.Tokens}.");
        }

        if (report.Signal is { } signal && (signal.RetryAfter < TimeSpan.Zero || signal.RequestsResetIn < TimeSpan.Zero || signal.TokensResetIn < TimeSpan.Zero))
        {
            errors.Add("Upstream waits (Retry-After, resets) must not be negative.");
        }

        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }
    }

    private AcquireResult Moved() =>
        AcquireResult.Fail(AcquireFailure.Fenced, $"Limiter '{Name}' moved to another activation; try again.", TimeSpan.Zero, 0);

    private AcquireResult Cancelled(string? requestId) =>
        AcquireResult.Fail(AcquireFailure.Cancelled, $"The acquire request '{requestId}' was cancelled by its caller.", null, Available);

    private AcquireResult Unavailable(int tokens)
    {
        if (_ledger.Stopped)
        {
            return Moved();
        }

        var now = time.GetUtcNow();
        var rateWait = _ledger.Rate.NextFreeAt() is { } next ? next - now : (TimeSpan?)null;
        var pause = _ledger.Backoff.IsPaused ? _ledger.Backoff.PausedUntil - now : (TimeSpan?)null;
        var tokenWait = _ledger.Tokens.NextFreeAt(tokens) is { } tokensFree ? tokensFree - now : (TimeSpan?)null;
        var reason = (pause, rateWait, tokenWait) switch
        {
            ({ }, _, _) => $"The upstream of '{Name}' asked every caller to wait (it answered 429); grants resume in {pause.Value.TotalSeconds:0.#} s.",
            (_, { }, _) => $"The request budget of '{Name}' ({_ledger.Rate.Budget} per minute) is used up.",
            (_, _, { }) => $"The token budget of '{Name}' ({_ledger.Tokens.Budget} per minute) is used up.",
            _ => $"No permit of '{Name}' became free in time ({_ledger.InUse}/{_ledger.EffectiveMaxConcurrency} in use, {_ledger.Waiting} waiting).",
        };
        metrics.TimedOut(Name);
        return AcquireResult.Fail(AcquireFailure.Timeout, reason, pause ?? rateWait ?? tokenWait ?? _options.RetryAfterHint, Available);
    }

    private int Available => Math.Max(0, _ledger.EffectiveMaxConcurrency - _ledger.InUse);

    /// <summary>The limits as set by callers and administrators (written with the lease table).</summary>
    private sealed record LimitsState(int? MaxConcurrency, LimitSource Source, int? RequestsPerMinute, double? RateSafetyFactor, int? TokensPerMinute = null);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter} (epoch {Epoch}) took over {Leases} lease(s) handed over by its predecessor: {Permits} permit(s) in use")]
    private partial void LogTookOver(string limiter, long epoch, int leases, int permits);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter}: dropped {Waiters} waiter(s) and released {Grants} grant(s) whose callers did not come back")]
    private partial void LogAbandonedDropped(string limiter, int waiters, int grants);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Limiter {Limiter}: {Count} lease(s) expired without renewal")]
    private partial void LogLeasesExpired(string limiter, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} keeps limit {Current}; a caller asked for {Requested}")]
    private partial void LogConflictingLimit(string limiter, int current, int requested);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter}: limit set to {Limit}, requests per minute {Rpm}")]
    private partial void LogLimitChanged(string limiter, int limit, int? rpm);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} (epoch {Epoch}) took over from an activation that was lost: {Leases} lease(s), {InUse} permit(s) counted until their persisted expiry unless renewed or released")]
    private partial void LogTookOverUnclean(string limiter, long epoch, int leases, int inUse);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter} handed over {Leases} lease(s) on deactivation ({Reason})")]
    private partial void LogHandedOver(string limiter, int leases, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} could not hand over its lease table; its successor will count the leases one TTL longer")]
    private partial void LogHandOverFailed(Exception ex, string limiter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} could not record a grant; the caller is told to retry")]
    private partial void LogGrantNotRecorded(Exception ex, string limiter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} could not persist releases and renewals; retrying at the next interval")]
    private partial void LogPersistFailed(Exception ex, string limiter);

    [LoggerMessage(Level = LogLevel.Error, Message = "Limiter {Limiter} (epoch {Epoch}) was fenced: another activation claimed it; this one stops granting")]
    private partial void LogFenced(string limiter, long epoch);
}
