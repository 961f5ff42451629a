using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client.Batches;
using Floodgate.Client.Leases;
using Floodgate.Limiting;

namespace Floodgate.Client;

/// <summary>
/// The Floodgate SDK: submit batches and follow them, hold global leases for work done outside Floodgate, and read or
/// change limiters. Invalid input throws <see cref="Validation.FloodgateValidationException"/> before anything is sent;
/// unknown ids throw <see cref="Validation.FloodgateNotFoundException"/>.
/// </summary>
public interface IFloodgateClient
{
    /// <summary>
    /// Submits a batch and returns its handle. With <see cref="BatchDefinition.IdempotencyKey"/> set, submitting again returns
    /// the same batch. <paramref name="batchId"/> may name the batch; otherwise one is generated.
    /// </summary>
    Task<BatchHandle> SubmitBatchAsync(BatchSpec spec, string? batchId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Submits a batch whose items come as a stream (of any length up to the silo's <c>Batches:MaxItems</c>), sent in
    /// chunks while they are read; the batch starts running as the first chunks arrive. Each item is checked before its
    /// chunk is sent: an invalid item, a failing source or a cancellation discards the batch (nothing of it stays, though
    /// items of chunks already sent may have run) and throws. Otherwise as <see cref="SubmitBatchAsync(BatchSpec, string?, CancellationToken)"/>.
    /// </summary>
    Task<BatchHandle> SubmitBatchAsync(BatchDefinition definition, IAsyncEnumerable<string> items, string? batchId = null, CancellationToken cancellationToken = default);

    /// <summary>A handle on an existing batch (no call is made until the handle is used).</summary>
    BatchHandle GetBatch(string batchId);

    /// <summary>
    /// One page of the batches the cluster knows (submitted and not yet expired), newest first, optionally only those in
    /// one state. Unfinished batches come with their current counts.
    /// </summary>
    Task<BatchListPage> ListBatchesAsync(BatchListQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits up to <paramref name="waitTimeout"/> for <paramref name="weight"/> permits of <paramref name="limiter"/>.
    /// The lease renews itself in the background until disposed. Throws <see cref="LeaseUnavailableException"/> when no
    /// permit became free in time.
    /// </summary>
    Task<LimiterLease> AcquireAsync(string limiter, int weight = 1, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// One acquire without background renewal (for callers that manage the lease themselves, like the HTTP API):
    /// a lease, or a failure with a retry hint. Rides through a limiter moving between silos with the request's id (one
    /// is assigned when it has none); undone by that id if the caller gives up.
    /// </summary>
    Task<AcquireResult> TryAcquireLeaseAsync(string limiter, AcquireRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Undoes the acquire made with <paramref name="requestId"/>: releases what it was granted, or removes its wait, and
    /// refuses it if it arrives later. True when something was released or removed.
    /// </summary>
    Task<bool> CancelAcquireAsync(string limiter, string requestId, CancellationToken cancellationToken = default);

    /// <summary>Renews a lease; null when the limiter no longer knows it (it expired or was released).</summary>
    Task<Lease?> RenewLeaseAsync(string limiter, RenewRequest request, CancellationToken cancellationToken = default);

    /// <summary>Releases a lease; false when the limiter no longer knows it. Idempotent.</summary>
    Task<bool> ReleaseLeaseAsync(string limiter, string leaseId, CancellationToken cancellationToken = default);

    /// <summary>
    /// A <see cref="System.Threading.RateLimiting.RateLimiter"/> backed by the global limiter, for HttpClient resilience
    /// pipelines, Polly and ASP.NET rate limiting. Each lease it grants is a global lease, renewed until disposed.
    /// </summary>
    System.Threading.RateLimiting.RateLimiter GetRateLimiter(string limiter, RateLimiting.FloodgateRateLimiterOptions? options = null);

    /// <summary>Returns a limiter's status.</summary>
    Task<LimiterStatus> GetLimiterStatusAsync(string limiter, CancellationToken cancellationToken = default);

    /// <summary>Changes a limiter's limits live.</summary>
    Task<LimiterStatus> SetLimitsAsync(string limiter, LimiterLimits limits, CancellationToken cancellationToken = default);

    /// <summary>Returns a shared circuit breaker's status.</summary>
    Task<CircuitStatus> GetBreakerStatusAsync(string breaker, CancellationToken cancellationToken = default);
}
