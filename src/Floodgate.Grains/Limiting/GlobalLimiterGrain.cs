using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;

namespace Floodgate.Grains.Limiting;

/// <summary>What a limiter keeps in storage: its limits and its claim. Never leases, never secrets.</summary>
[GenerateSerializer, Alias("Floodgate.LimiterRecord")]
public sealed class LimiterRecord
{
    /// <summary>A limit set by a caller or an administrator; null while configuration/default applies.</summary>
    [Id(0)] public int? MaxConcurrency { get; set; }

    [Id(1)] public LimitSource Source { get; set; }

    /// <summary>A requests-per-minute budget set by an administrator; null while configuration applies.</summary>
    [Id(2)] public int? RequestsPerMinute { get; set; }

    [Id(3)] public double? RateSafetyFactor { get; set; }

    /// <summary>True from activation until a deactivation that held no permits: false means "shut down clean".</summary>
    [Id(4)] public bool Active { get; set; }

    /// <summary>Grows with each activation; the ETag-checked write of it is the activation's claim.</summary>
    [Id(5)] public long Epoch { get; set; }

    /// <summary>The longest lease TTL ever granted: how long a successor must wait before no old lease can be alive.</summary>
    [Id(6)] public TimeSpan LongestTtl { get; set; }
}

/// <summary>
/// The account-wide permit authority. Reentrant: a waiting <see cref="AcquireAsync"/> must not block the release that
/// would wake it. Bookkeeping lives in <see cref="PermitLedger"/> and runs synchronously between awaits.
/// Crash safety: an activation that finds its predecessor did not shut down clean grants nothing new for one lease TTL
/// (every lease the predecessor granted has then ended or been re-adopted through a renewal). Fencing: each activation
/// claims an epoch with an ETag-checked write and re-confirms it every half TTL; a rejected write means another
/// activation exists, so this one stops granting and deactivates.
/// </summary>
[Reentrant]
internal sealed partial class GlobalLimiterGrain(
    [PersistentState("limiter")] IPersistentState<LimiterRecord> record,
    IOptions<LimiterOptions> options,
    TimeProvider time,
    ILogger<GlobalLimiterGrain> logger) : Grain, IGlobalLimiterGrain
{
    private readonly LimiterOptions _options = options.Value;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private PermitLedger _ledger = null!;
    private IGrainTimer? _wakeTimer;
    private TimeSpan _persistedLongestTtl;
    private DateTimeOffset? _wakeAt;

    private string Name => this.GetPrimaryKeyString();

    private LimitSource Source => record.State.MaxConcurrency is null
        ? (_options.ConfiguredLimitFor(Name) is null ? LimitSource.Default : LimitSource.Configuration)
        : record.State.Source;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _ledger = new PermitLedger(Name, time);
        _ledger.SetMaxConcurrency(record.State.MaxConcurrency ?? _options.ConfiguredLimitFor(Name) ?? _options.DefaultMaxConcurrency);
        ApplyRate();

        var uncleanLoss = record.State.Active;
        record.State.Active = true;
        record.State.Epoch++;
        // The claim: if another activation wrote since we read, this throws and this activation never starts.
        await record.WriteStateAsync(cancellationToken);
        _persistedLongestTtl = record.State.LongestTtl;
        if (uncleanLoss)
        {
            // A duplicate activation (partition) learns it is fenced within one confirm interval; wait that out too.
            var until = time.GetUtcNow() + record.State.LongestTtl + _options.ConfirmInterval;
            _ledger.PauseUntil(until);
            LogRecovering(Name, record.State.Epoch, until);
        }

        this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions { DueTime = _options.SweepInterval, Period = _options.SweepInterval, Interleave = true });
        this.RegisterGrainTimer(ConfirmClaimAsync, new GrainTimerCreationOptions { DueTime = _options.ConfirmInterval, Period = _options.ConfirmInterval, Interleave = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _ledger.ExpireDue();
        if (!_options.RecordCleanShutdown || _ledger.InUse > 0 || _ledger.Paused)
        {
            // Leases are still out (or we never finished recovering): the successor must recover too.
            return;
        }

        record.State.Active = false;
        try
        {
            await WriteRecordAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCleanMarkerFailed(ex, Name);
        }
    }

    public async Task<LimiterConfiguration> ConfigureAsync(int maxConcurrency)
    {
        LimiterLimitsValidator.ThrowIfInvalid(new LimiterLimits(maxConcurrency));
        if (record.State.MaxConcurrency is { } current)
        {
            if (current == maxConcurrency)
            {
                return new LimiterConfiguration(current, record.State.Source, null);
            }

            var warning = $"Limiter '{Name}' already has limit {current} ({record.State.Source}); the requested {maxConcurrency} was not applied.";
            LogConflictingLimit(Name, current, maxConcurrency);
            return new LimiterConfiguration(current, record.State.Source, warning);
        }

        record.State.MaxConcurrency = maxConcurrency;
        record.State.Source = LimitSource.Explicit;
        _ledger.SetMaxConcurrency(maxConcurrency);
        await WriteRecordAsync();
        return new LimiterConfiguration(maxConcurrency, LimitSource.Explicit, null);
    }

    public async Task<AcquireResult> AcquireAsync(AcquireRequest request, CancellationToken cancellationToken = default)
    {
        var ttl = ValidateAcquire(request);
        if (_ledger.Fenced)
        {
            return Fenced();
        }

        while (ttl > _persistedLongestTtl)
        {
            // Persist before granting: a successor must wait out the longest lease that may be alive. A concurrent
            // acquire with the same TTL waits for this write too instead of being granted before it lands.
            record.State.LongestTtl = Max(record.State.LongestTtl, ttl);
            var writing = record.State.LongestTtl;
            try
            {
                await WriteRecordAsync();
            }
            catch (InconsistentStateException)
            {
                return Fenced();
            }

            _persistedLongestTtl = Max(_persistedLongestTtl, writing);
        }

        _ledger.ExpireDue();
        if (request.RequestId is { } requestId)
        {
            if (_ledger.IsCancelled(requestId))
            {
                return AcquireResult.Fail(AcquireFailure.Cancelled, $"The acquire request '{requestId}' was cancelled by its caller.", null, Available);
            }

            if (_ledger.LeaseOf(requestId) is { } existing)
            {
                return AcquireResult.Success(existing, Available);
            }
        }

        if (_ledger.TryAcquire(request.Holder, request.Weight, ttl, request.RequestId) is { } immediate)
        {
            return AcquireResult.Success(immediate, Available);
        }

        if (request.WaitTimeout == TimeSpan.Zero)
        {
            return Unavailable(AcquireFailure.Timeout);
        }

        var waiter = (request.RequestId is { } id ? _ledger.WaiterOf(id) : null)
            ?? _ledger.Enqueue(request.Holder, request.Weight, ttl, request.Priority, request.RequestId);
        ScheduleWake();
        try
        {
            return AcquireResult.Success(await waiter.Task.WaitAsync(request.WaitTimeout, time, cancellationToken), Available);
        }
        catch (TimeoutException)
        {
            if (_ledger.Abandon(waiter, timedOut: true))
            {
                return Unavailable(AcquireFailure.Timeout);
            }

            // Completed in the same turn the timeout fired: granted (the caller gets the lease rather than a leak),
            // fenced, or failed by a limit change.
            return waiter.Task.IsCompletedSuccessfully
                ? AcquireResult.Success(waiter.Task.Result, Available)
                : waiter.Task.Exception?.InnerException is FloodgateValidationException invalid
                    ? throw invalid
                    : Fenced();
        }
        catch (LimiterFencedException)
        {
            return Fenced();
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
            return AcquireResult.Fail(AcquireFailure.Cancelled, $"The acquire request '{request.RequestId}' was cancelled by its caller.", null, Available);
        }
    }

    public Task<bool> CancelAcquireAsync(string requestId)
    {
        RequireId(requestId, "A request id");
        var undone = _ledger.CancelRequest(requestId);
        ScheduleWake();
        return Task.FromResult(undone);
    }

    public Task<Lease?> RenewAsync(RenewRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireLeaseId(request.LeaseId);
        if (_ledger.Renew(request.LeaseId) is { } renewed)
        {
            return Task.FromResult<Lease?>(renewed);
        }

        // During recovery a renewal that names its holder and weight is a lease the lost activation granted: adopt it.
        if (_ledger.Recovering && request is { Holder: { } holder, Weight: { } weight } && Names.Check("Holder", holder) is null && weight > 0)
        {
            var ttl = request.Ttl is { } asked && asked >= _options.MinLeaseTtl && asked <= _options.MaxLeaseTtl ? asked : _options.DefaultLeaseTtl;
            var adopted = _ledger.Adopt(request.LeaseId, holder, weight, ttl);
            LogReadopted(Name, holder, weight);
            return Task.FromResult<Lease?>(adopted);
        }

        return Task.FromResult<Lease?>(null);
    }

    public Task<bool> ReleaseAsync(string leaseId)
    {
        RequireLeaseId(leaseId);
        var released = _ledger.Release(leaseId);
        ScheduleWake();
        return Task.FromResult(released);
    }

    public async Task<LimiterStatus> SetLimitsAsync(LimiterLimits limits)
    {
        LimiterLimitsValidator.ThrowIfInvalid(limits);
        record.State.MaxConcurrency = limits.MaxConcurrency;
        record.State.Source = LimitSource.Admin;
        record.State.RequestsPerMinute = limits.RequestsPerMinute;
        record.State.RateSafetyFactor = limits.RateSafetyFactor;
        // Apply in memory first so grants follow at once.
        _ledger.SetMaxConcurrency(limits.MaxConcurrency);
        ApplyRate();
        ScheduleWake();
        await WriteRecordAsync();
        LogLimitChanged(Name, limits.MaxConcurrency, limits.RequestsPerMinute);
        return Snapshot();
    }

    public Task<LimiterStatus> GetStatusAsync()
    {
        _ledger.ExpireDue();
        return Task.FromResult(Snapshot());
    }

    private LimiterStatus Snapshot() => _ledger.Snapshot(Source, record.State.Epoch);

    private void ApplyRate()
    {
        // An administrator's rate replaces configuration; an administrator's change without a rate removes it.
        var rpm = record.State.Source == LimitSource.Admin ? record.State.RequestsPerMinute : _options.ConfiguredRateFor(Name);
        _ledger.SetRate(rpm, record.State.RateSafetyFactor ?? _options.RateSafetyFactor);
    }

    private Task SweepAsync()
    {
        var expired = _ledger.ExpireDue();
        if (expired > 0)
        {
            LogLeasesExpired(Name, expired);
        }

        _ledger.Pump();
        ScheduleWake();
        return Task.CompletedTask;
    }

    /// <summary>Waiters blocked only by time (rate window, recovery) are woken exactly when that time comes.</summary>
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

    private async Task ConfirmClaimAsync()
    {
        try
        {
            await WriteRecordAsync();
        }
        catch (InconsistentStateException)
        {
            // Handled in WriteRecordAsync (fenced); nothing more to do here.
        }
    }

    /// <summary>One outstanding write at a time; a rejected write means another activation owns the limiter.</summary>
    private async Task WriteRecordAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            await record.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            LogFenced(Name, record.State.Epoch);
            _ledger.Fence();
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            _writeGate.Release();
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

        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        return ttl;
    }

    private AcquireResult Fenced() =>
        AcquireResult.Fail(AcquireFailure.Fenced, $"Limiter '{Name}' moved to another activation; try again.", _options.RetryAfterHint, 0);

    private AcquireResult Unavailable(AcquireFailure failure)
    {
        if (_ledger.Fenced)
        {
            return Fenced();
        }

        if (_ledger.Paused)
        {
            var left = (_ledger.PausedUntil ?? time.GetUtcNow()) - time.GetUtcNow();
            return AcquireResult.Fail(AcquireFailure.Recovering, $"Limiter '{Name}' is recovering from an unclean restart and grants nothing new for {left.TotalSeconds:0.#} s.", Max(left, TimeSpan.Zero), 0);
        }

        var rateWait = _ledger.Rate.NextFreeAt is { } next ? next - time.GetUtcNow() : (TimeSpan?)null;
        var reason = rateWait is null
            ? $"No permit of '{Name}' became free in time ({_ledger.InUse}/{_ledger.MaxConcurrency} in use, {_ledger.Waiting} waiting)."
            : $"The request budget of '{Name}' ({_ledger.Rate.Budget} per minute) is used up.";
        return AcquireResult.Fail(failure, reason, rateWait ?? _options.RetryAfterHint, Available);
    }

    private int Available => Math.Max(0, _ledger.MaxConcurrency - _ledger.InUse);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static void RequireLeaseId(string leaseId) => RequireId(leaseId, "A lease id");

    private static void RequireId(string id, string what)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > FloodgateDefaults.MaxNameLength)
        {
            throw new FloodgateValidationException($"{what} is required (at most {FloodgateDefaults.MaxNameLength} characters).");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Limiter {Limiter}: {Count} lease(s) expired without renewal")]
    private partial void LogLeasesExpired(string limiter, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} keeps limit {Current}; a caller asked for {Requested}")]
    private partial void LogConflictingLimit(string limiter, int current, int requested);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter}: limit set to {Limit}, requests per minute {Rpm}")]
    private partial void LogLimitChanged(string limiter, int limit, int? rpm);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} (epoch {Epoch}) lost its previous activation uncleanly; granting nothing new until {Until}")]
    private partial void LogRecovering(string limiter, long epoch, DateTimeOffset until);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter} re-adopted a lease of {Holder} ({Weight} permit(s))")]
    private partial void LogReadopted(string limiter, string holder, int weight);

    [LoggerMessage(Level = LogLevel.Error, Message = "Limiter {Limiter} (epoch {Epoch}) was fenced: another activation claimed it; this one stops granting")]
    private partial void LogFenced(string limiter, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} could not record its clean shutdown; its successor will recover")]
    private partial void LogCleanMarkerFailed(Exception ex, string limiter);
}
