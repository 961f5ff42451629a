using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Catalog;
using Floodgate.Client.Batches;
using Floodgate.Client.Leases;
using Floodgate.Client.References;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Options;

namespace Floodgate.Client;

/// <summary>The SDK over any <see cref="IGrainFactory"/>: an Orleans client in another service, or a silo itself.</summary>
public sealed class FloodgateClient : IFloodgateClient
{
    private readonly IGrainFactory _grains;
    private readonly GrainReferences _references;
    private readonly FloodgateClientOptions _options;
    private readonly TimeProvider _time;
    private readonly FailoverAcquire _acquire;
    private readonly LeaseSetPolicy _leaseSets;
    private readonly ClusterCallRetry _batchRetry;

    /// <summary>Creates the client; <paramref name="options"/> are validated here.</summary>
    public FloodgateClient(IGrainFactory grains, IOptions<FloodgateClientOptions> options, TimeProvider? time = null)
    {
        _grains = grains;
        _references = new GrainReferences(grains);
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        var errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        _acquire = new FailoverAcquire(_time, _options.FailoverRetryTimeout);
        _leaseSets = new LeaseSetPolicy { Acquire = _acquire, Limiter = (_, name) => _references.Shared<IGlobalLimiterGrain>(name) };
        _batchRetry = new ClusterCallRetry(_time, _options.FailoverRetryTimeout);
    }

    /// <inheritdoc />
    public Task<BatchHandle> SubmitBatchAsync(BatchSpec spec, string? batchId = null, CancellationToken cancellationToken = default)
    {
        var errors = BatchSpecValidator.Validate(spec, batchId);
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        return SubmitAsync(spec, spec.Items.ToAsyncEnumerable(), spec.Items.Count, itemsValidated: true, batchId, cancellationToken);
    }

    /// <inheritdoc />
    public Task<BatchHandle> SubmitBatchAsync(BatchDefinition definition, IAsyncEnumerable<string> items, string? batchId = null, CancellationToken cancellationToken = default)
    {
        var errors = BatchSpecValidator.Validate(definition, items, batchId);
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        return SubmitAsync(definition, items!, expectedItems: null, itemsValidated: false, batchId, cancellationToken);
    }

    /// <inheritdoc />
    public BatchHandle GetBatch(string batchId) =>
        new(Names.RequireUnreserved("Batch id", batchId), _grains, _options, _time, initial: null);

    /// <inheritdoc />
    public async Task<BatchListPage> ListBatchesAsync(BatchListQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new BatchListQuery();
        var errors = query.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        var page = await _references.Shared<IBatchIndexGrain>(IBatchIndexGrain.Key).ListAsync(query).WaitAsync(cancellationToken);

        // The list holds each batch as of its last change of state; an unfinished one is asked for its counts now.
        var fresh = await Task.WhenAll(page.Batches.Select(async summary =>
        {
            if (summary.State is BatchState.Completed or BatchState.Cancelled)
            {
                return summary;
            }

            try
            {
                return (await _references.Get<IBatchGrain>(summary.BatchId).GetProgressAsync().WaitAsync(cancellationToken)).ToSummary();
            }
            catch (FloodgateNotFoundException)
            {
                return null;
            }
        }));
        return page with { Batches = fresh.OfType<BatchSummary>().ToList() };
    }

    private async Task<BatchHandle> SubmitAsync(
        BatchDefinition definition, IAsyncEnumerable<string> items, int? expectedItems, bool itemsValidated, string? batchId, CancellationToken cancellationToken)
    {
        var id = batchId ?? BatchIds.New(definition.IdempotencyKey);
        var upload = new BatchUpload(_references.Get<IBatchGrain>(id), _batchRetry);
        var progress = await upload.SendAsync(definition, items, expectedItems, itemsValidated, cancellationToken);
        return new BatchHandle(id, _grains, _options, _time, progress);
    }

    /// <inheritdoc />
    public async Task<LimiterLease> AcquireAsync(string limiter, int weight = 1, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default)
    {
        var grain = Limiter(limiter);
        if (weight < 1)
        {
            throw new FloodgateValidationException($"Weight must be at least 1 (got {weight}).");
        }

        var wait = waitTimeout ?? FloodgateDefaults.AcquireTimeout;
        if (wait < TimeSpan.Zero)
        {
            throw new FloodgateValidationException($"Wait timeout must not be negative (got {wait}).");
        }

        var result = await _acquire.AcquireAsync(grain, new AcquireRequest(_options.ClientId, weight, wait, _options.LeaseTtl), cancellationToken);
        return result.Lease is { } lease
            ? new LimiterLease(grain, lease, _time)
            : throw new LeaseUnavailableException(limiter, result.Reason ?? "No permit was granted.", result.RetryAfter);
    }

    /// <inheritdoc />
    public Task<LimiterLeaseSet> AcquireAllAsync(LeaseSetRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = request.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        return LimiterLeaseSet.AcquireAsync(
            _grains, request, request.Holder ?? _options.ClientId, request.LeaseTtl ?? _options.LeaseTtl, _leaseSets, _time, cancellationToken);
    }

    /// <inheritdoc />
    public Task ReportUsageAsync(string limiter, UsageReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        return Limiter(limiter).ReportUsageAsync(report).WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task<AcquireResult> TryAcquireLeaseAsync(string limiter, AcquireRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _acquire.AcquireAsync(Limiter(limiter), request, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> CancelAcquireAsync(string limiter, string requestId, CancellationToken cancellationToken = default) =>
        Limiter(limiter).CancelAcquireAsync(RequestIds.Require(requestId)).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<Lease?> RenewLeaseAsync(string limiter, RenewRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Limiter(limiter).RenewAsync(request).WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> ReleaseLeaseAsync(string limiter, string leaseId, CancellationToken cancellationToken = default) =>
        Limiter(limiter).ReleaseAsync(leaseId).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public void ReleaseLeaseOneWay(string limiter, string leaseId) =>
        Limiter(limiter).ReleaseOneWayAsync(LeaseIds.Require(leaseId)).Ignore();

    /// <inheritdoc />
    public System.Threading.RateLimiting.RateLimiter GetRateLimiter(string limiter, RateLimiting.FloodgateRateLimiterOptions? options = null)
    {
        var grain = Limiter(limiter);
        var o = options ?? new RateLimiting.FloodgateRateLimiterOptions();
        var errors = o.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        return new RateLimiting.FloodgateRateLimiter(grain, limiter, o, _options.ClientId, _options.LeaseTtl, _time);
    }

    /// <inheritdoc />
    public Task<LimiterStatus> GetLimiterStatusAsync(string limiter, CancellationToken cancellationToken = default) =>
        Limiter(limiter).GetStatusAsync().WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<LimiterStatus> SetLimitsAsync(string limiter, LimiterLimits limits, CancellationToken cancellationToken = default)
    {
        var grain = Limiter(limiter);
        LimiterLimitsValidator.ThrowIfInvalid(limits);
        return grain.SetLimitsAsync(limits).WaitAsync(cancellationToken);
    }

    private IGlobalLimiterGrain Limiter(string limiter) =>
        _references.Shared<IGlobalLimiterGrain>(Names.RequireUnreserved("Limiter name", limiter));

    /// <inheritdoc />
    public Task<CircuitStatus> GetBreakerStatusAsync(string breaker, CancellationToken cancellationToken = default) =>
        _references.Shared<ICircuitBreakerGrain>(Names.RequireUnreserved("Breaker name", breaker)).GetStatusAsync().WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListLimitersAsync(CancellationToken cancellationToken = default) =>
        _references.Shared<ICatalogGrain>(CatalogKeys.Limiters).ListAsync().WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListBreakersAsync(CancellationToken cancellationToken = default) =>
        _references.Shared<ICatalogGrain>(CatalogKeys.Breakers).ListAsync().WaitAsync(cancellationToken);
}
