using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Floodgate.Grains.Limiting;

/// <summary>What a limiter keeps in storage: only its configuration (never leases, never secrets).</summary>
[GenerateSerializer, Alias("Floodgate.LimiterRecord")]
public sealed class LimiterRecord
{
    /// <summary>A limit set by a caller or an administrator; null while configuration/default applies.</summary>
    [Id(0)] public int? MaxConcurrency { get; set; }

    [Id(1)] public LimitSource Source { get; set; }
}

/// <summary>
/// The account-wide permit authority. Reentrant: a waiting <see cref="AcquireAsync"/> must not block the release that
/// would wake it. All bookkeeping lives in <see cref="PermitLedger"/> and runs synchronously between awaits.
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

    private string Name => this.GetPrimaryKeyString();

    private LimitSource Source => record.State.MaxConcurrency is null
        ? (_options.ConfiguredLimitFor(Name) is null ? LimitSource.Default : LimitSource.Configuration)
        : record.State.Source;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _ledger = new PermitLedger(Name, time);
        _ledger.SetMaxConcurrency(record.State.MaxConcurrency
            ?? _options.ConfiguredLimitFor(Name)
            ?? _options.DefaultMaxConcurrency);

        this.RegisterGrainTimer(
            () =>
            {
                var expired = _ledger.ExpireDue();
                if (expired > 0)
                {
                    LogLeasesExpired(Name, expired);
                }

                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions { DueTime = _options.SweepInterval, Period = _options.SweepInterval, Interleave = true });
        return Task.CompletedTask;
    }

    public async Task<LimiterConfiguration> ConfigureAsync(int maxConcurrency)
    {
        RequireLimit(maxConcurrency);
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

        await ApplyAsync(maxConcurrency, LimitSource.Explicit);
        return new LimiterConfiguration(maxConcurrency, LimitSource.Explicit, null);
    }

    public async Task<AcquireResult> AcquireAsync(AcquireRequest request, CancellationToken cancellationToken = default)
    {
        var ttl = ValidateAcquire(request);
        _ledger.ExpireDue();
        if (_ledger.TryAcquire(request.Holder, request.Weight, ttl) is { } immediate)
        {
            return AcquireResult.Success(immediate, Available);
        }

        if (request.WaitTimeout == TimeSpan.Zero)
        {
            return TimedOut();
        }

        var waiter = _ledger.Enqueue(request.Holder, request.Weight, ttl);
        try
        {
            return AcquireResult.Success(await waiter.Task.WaitAsync(request.WaitTimeout, time, cancellationToken), Available);
        }
        catch (TimeoutException)
        {
            // Granted in the same turn the timeout fired: the caller gets the lease rather than a leak.
            return _ledger.Abandon(waiter, timedOut: true) ? TimedOut() : AcquireResult.Success(await waiter.Task, Available);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (!_ledger.Abandon(waiter, timedOut: false) && waiter.Task.IsCompletedSuccessfully)
            {
                _ledger.Release(waiter.Task.Result.LeaseId);
            }

            throw;
        }
    }

    public Task<Lease?> RenewAsync(RenewRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireLeaseId(request.LeaseId);
        return Task.FromResult(_ledger.Renew(request.LeaseId));
    }

    public Task<bool> ReleaseAsync(string leaseId)
    {
        RequireLeaseId(leaseId);
        return Task.FromResult(_ledger.Release(leaseId));
    }

    public async Task<LimiterStatus> SetLimitsAsync(LimiterLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        RequireLimit(limits.MaxConcurrency);
        await ApplyAsync(limits.MaxConcurrency, LimitSource.Admin);
        LogLimitChanged(Name, limits.MaxConcurrency);
        return _ledger.Snapshot(Source);
    }

    public Task<LimiterStatus> GetStatusAsync()
    {
        _ledger.ExpireDue();
        return Task.FromResult(_ledger.Snapshot(Source));
    }

    private async Task ApplyAsync(int maxConcurrency, LimitSource source)
    {
        // Apply in memory first so grants follow at once; storage writes are serialised (one outstanding at a time).
        _ledger.SetMaxConcurrency(maxConcurrency);
        record.State.MaxConcurrency = maxConcurrency;
        record.State.Source = source;
        await _writeGate.WaitAsync();
        try
        {
            await record.WriteStateAsync();
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

    private AcquireResult TimedOut() => AcquireResult.Fail(
        AcquireFailure.Timeout,
        $"No permit of '{Name}' became free in time ({_ledger.InUse}/{_ledger.MaxConcurrency} in use, {_ledger.Waiting} waiting).",
        _options.RetryAfterHint,
        Available);

    private int Available => Math.Max(0, _ledger.MaxConcurrency - _ledger.InUse);

    private static void RequireLimit(int maxConcurrency)
    {
        if (maxConcurrency is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
        {
            throw new FloodgateValidationException(
                $"Max concurrency must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {maxConcurrency}).");
        }
    }

    private static void RequireLeaseId(string leaseId)
    {
        if (string.IsNullOrWhiteSpace(leaseId) || leaseId.Length > FloodgateDefaults.MaxNameLength)
        {
            throw new FloodgateValidationException("A lease id is required.");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Limiter {Limiter}: {Count} lease(s) expired without renewal")]
    private partial void LogLeasesExpired(string limiter, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limiter {Limiter} keeps limit {Current}; a caller asked for {Requested}")]
    private partial void LogConflictingLimit(string limiter, int current, int requested);

    [LoggerMessage(Level = LogLevel.Information, Message = "Limiter {Limiter}: limit set to {Limit}")]
    private partial void LogLimitChanged(string limiter, int limit);
}
