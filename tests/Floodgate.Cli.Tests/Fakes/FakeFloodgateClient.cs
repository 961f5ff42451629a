using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client;
using Floodgate.Client.Batches;
using Floodgate.Client.Leases;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Cli.Tests.Fakes;

/// <summary>An SDK client over in-memory batches and limiters; batch handles are the SDK's own, over fake grains.</summary>
internal sealed class FakeFloodgateClient : IFloodgateClient
{
    private readonly FakeGrainFactory _grains;

    public FakeFloodgateClient()
    {
        _grains = new FakeGrainFactory(key => Batches.TryGetValue(key, out var batch) ? batch : FakeBatchGrain.Missing(key));
    }

    public Dictionary<string, FakeBatchGrain> Batches { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, LimiterStatus> Limiters { get; } = new(StringComparer.Ordinal);

    public List<(string Limiter, LimiterLimits Limits)> LimitChanges { get; } = [];

    /// <summary>Options that make watching instant: no pause between progress polls.</summary>
    public FloodgateClientOptions Options { get; } = new() { WatchInterval = TimeSpan.Zero, ResultPageSize = 2 };

    public FakeBatchGrain AddBatch(string id, params BatchProgress[] snapshots)
    {
        var batch = new FakeBatchGrain(id);
        batch.Snapshots.AddRange(snapshots);
        Batches[id] = batch;
        return batch;
    }

    public async Task<BatchHandle> SubmitBatchAsync(BatchSpec spec, string? batchId = null, CancellationToken cancellationToken = default)
    {
        var id = batchId ?? "b-submitted";
        var progress = await Batches[id].SubmitAsync(spec);
        return new BatchHandle(id, _grains, Options, TimeProvider.System, progress);
    }

    public async Task<BatchHandle> SubmitBatchAsync(BatchDefinition definition, IAsyncEnumerable<string> items, string? batchId = null, CancellationToken cancellationToken = default)
    {
        var all = new List<string>();
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            all.Add(item);
        }

        return await SubmitBatchAsync(new BatchSpec(definition) { Items = all }, batchId, cancellationToken);
    }

    public BatchHandle GetBatch(string batchId) => new(batchId, _grains, Options, TimeProvider.System, initial: null);

    /// <summary>What <see cref="ListBatchesAsync"/> answers.</summary>
    public BatchListPage ListPage { get; set; } = new([], null);

    public List<BatchListQuery> ListQueries { get; } = [];

    public Task<BatchListPage> ListBatchesAsync(BatchListQuery? query = null, CancellationToken cancellationToken = default)
    {
        ListQueries.Add(query ?? new BatchListQuery());
        return Task.FromResult(ListPage);
    }

    public Task<LimiterLease> AcquireAsync(string limiter, int weight = 1, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<AcquireResult> TryAcquireLeaseAsync(string limiter, AcquireRequest request, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<LimiterLeaseSet> AcquireAllAsync(LeaseSetRequest request, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task ReportUsageAsync(string limiter, UsageReport report, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<Lease?> RenewLeaseAsync(string limiter, RenewRequest request, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<bool> CancelAcquireAsync(string limiter, string requestId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<bool> ReleaseLeaseAsync(string limiter, string leaseId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public void ReleaseLeaseOneWay(string limiter, string leaseId) => throw new NotSupportedException();

    public System.Threading.RateLimiting.RateLimiter GetRateLimiter(string limiter, Floodgate.Client.RateLimiting.FloodgateRateLimiterOptions? options = null) =>
        throw new NotSupportedException();

    public Task<LimiterStatus> GetLimiterStatusAsync(string limiter, CancellationToken cancellationToken = default) =>
        Limiters.TryGetValue(limiter, out var status)
            ? Task.FromResult(status)
            : Task.FromException<LimiterStatus>(new FloodgateNotFoundException("limiter", limiter));

    public Task<LimiterStatus> SetLimitsAsync(string limiter, LimiterLimits limits, CancellationToken cancellationToken = default)
    {
        LimitChanges.Add((limiter, limits));
        var status = Limiters[limiter] with { MaxConcurrency = limits.MaxConcurrency, LimitSource = LimitSource.Admin };
        Limiters[limiter] = status;
        return Task.FromResult(status);
    }

    public Task<CircuitStatus> GetBreakerStatusAsync(string breaker, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListLimitersAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListBreakersAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}
