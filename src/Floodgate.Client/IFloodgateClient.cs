using Floodgate.Client.Leases;
using Floodgate.Limiting;

namespace Floodgate.Client;

/// <summary>
/// The Floodgate SDK over Orleans: everything in <see cref="IFloodgateOperations"/>, plus global leases for work done
/// outside Floodgate (self-renewing, or managed by the caller) and a <see cref="System.Threading.RateLimiting.RateLimiter"/>
/// backed by a global limiter. Invalid input throws <see cref="Validation.FloodgateValidationException"/> before anything
/// is sent; unknown ids throw <see cref="Validation.FloodgateNotFoundException"/>.
/// </summary>
public interface IFloodgateClient : IFloodgateOperations
{
    /// <summary>
    /// Waits up to <paramref name="waitTimeout"/> for <paramref name="weight"/> permits of <paramref name="limiter"/>.
    /// The lease renews itself in the background until disposed. Throws <see cref="LeaseUnavailableException"/> when no
    /// permit became free in time.
    /// </summary>
    Task<LimiterLease> AcquireAsync(string limiter, int weight = 1, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits up to <see cref="LeaseSetRequest.WaitTimeout"/> for one permit of every limiter of <paramref name="request"/>
    /// (nested admission: a tenant's cap, the account, a model) and keeps them alive until the set is disposed. Throws
    /// <see cref="LeaseUnavailableException"/> naming the limiter that granted nothing in time; nothing stays held then.
    /// </summary>
    Task<LimiterLeaseSet> AcquireAllAsync(LeaseSetRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reports how an upstream call admitted by <paramref name="limiter"/> went: its real token usage (settling the
    /// estimate charged at the grant), the upstream's rate-limit signals (the cluster backs off as one), and the holder's
    /// usage tally. Report before disposing the lease.
    /// </summary>
    Task ReportUsageAsync(string limiter, UsageReport report, CancellationToken cancellationToken = default);

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

    /// <summary>
    /// Releases a lease and waits for the limiter's answer: false when it no longer knows the lease. Idempotent. For a
    /// release that need not wait, see <see cref="ReleaseLeaseOneWay"/>.
    /// </summary>
    Task<bool> ReleaseLeaseAsync(string limiter, string leaseId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases a lease without waiting for an answer: one message, no reply, so the caller goes on at once (half the
    /// round trip of <see cref="ReleaseLeaseAsync"/>, none of its wait). Best effort, and never a leak: a release lost on
    /// its way (the limiter's silo died or is stopping, the connection dropped) leaves the lease's permits counted until
    /// the lease expires — as for a holder that crashed — and a release may still be on its way when this caller's next
    /// acquire arrives (that acquire then waits for it, or fails if it asked not to wait). Use
    /// <see cref="ReleaseLeaseAsync"/> to learn whether the lease was still held, or when permits must be back before
    /// the next call. Invalid names or ids throw <see cref="Validation.FloodgateValidationException"/>; nothing is sent.
    /// </summary>
    void ReleaseLeaseOneWay(string limiter, string leaseId);

    /// <summary>
    /// A <see cref="System.Threading.RateLimiting.RateLimiter"/> backed by the global limiter, for HttpClient resilience
    /// pipelines, Polly and ASP.NET rate limiting. Each lease it grants is a global lease, renewed until disposed.
    /// </summary>
    System.Threading.RateLimiting.RateLimiter GetRateLimiter(string limiter, RateLimiting.FloodgateRateLimiterOptions? options = null);

    /// <summary>The limiters the cluster knows (each registers as it activates; bounded, oldest dropped first), in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListLimitersAsync(CancellationToken cancellationToken = default);

    /// <summary>The shared circuit breakers the cluster knows, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListBreakersAsync(CancellationToken cancellationToken = default);
}
