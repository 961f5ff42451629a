using Orleans.Concurrency;

namespace Floodgate.Limiting;

/// <summary>
/// The single permit authority for one upstream account (key: limiter name, e.g. <c>replicate:acct-42</c>).
/// Grants are leases with a time-to-live; waiters are served FIFO per holder and round-robin across holders.
/// </summary>
[Alias("Floodgate.IGlobalLimiterGrain")]
public interface IGlobalLimiterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Asks for an explicit concurrency limit. The first explicit configuration wins over silo configuration and the
    /// default; a later, different request keeps the existing limit and gets a warning back.
    /// </summary>
    [Alias("Configure")]
    Task<LimiterConfiguration> ConfigureAsync(int maxConcurrency);

    /// <summary>Waits (up to the request's timeout) for permits and returns a lease, or a failure with a retry hint.</summary>
    /// <remarks>
    /// The response timeout covers the longest wait a limiter accepts (one hour) so a long, legitimate wait is never cut
    /// off by Orleans' default 30 s timeout, which would leave a granted lease without a holder.
    /// </remarks>
    [Alias("Acquire"), ResponseTimeout(FloodgateDefaults.LongCallTimeout)]
    Task<AcquireResult> AcquireAsync(AcquireRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Undoes the acquire made with <paramref name="requestId"/>: releases the lease it was granted, or takes its waiter out
    /// of the queue, and refuses the acquire if it arrives later. Idempotent; returns true when something was released or
    /// removed. A caller that timed out or was cancelled calls this so no grant in transit is left without a holder.
    /// </summary>
    [Alias("CancelAcquire")]
    Task<bool> CancelAcquireAsync(string requestId);

    /// <summary>
    /// Extends a lease by its TTL. Returns null when the lease is unknown or already expired, or held by another holder
    /// than the one the request names. Throws <see cref="LimiterMovedException"/> from an activation that lost its claim.
    /// </summary>
    [Alias("Renew")]
    Task<Lease?> RenewAsync(RenewRequest request);

    /// <summary>Returns a lease's permits. Idempotent: returns false when the lease is unknown or already gone.</summary>
    [Alias("Release")]
    Task<bool> ReleaseAsync(string leaseId);

    /// <summary>
    /// Returns the permits of several leases in one call (a silo's items release theirs grouped), as
    /// <see cref="ReleaseAsync"/> would one by one: unknown or already gone leases are skipped. An invalid id or more than
    /// <see cref="Floodgate.Validation.LeaseIds.MaxPerRelease"/> ids reject the whole call, and nothing is released.
    /// </summary>
    [Alias("ReleaseMany")]
    Task ReleaseManyAsync(IReadOnlyList<string> leaseIds);

    /// <summary>
    /// Returns a lease's permits without an answer (an Orleans one-way call: the returned task completes once the message
    /// is handed to the transport). Best effort: a release lost on its way — the limiter's silo died or is stopping, the
    /// connection dropped, this activation was fenced — leaves the lease counted until its expiry, like the lease of a
    /// holder that vanished; and it may reach the limiter after a later call of the same caller. Callers check the id
    /// before sending (nobody hears an error); an invalid or unknown id changes nothing.
    /// </summary>
    [OneWay, Alias("ReleaseOneWay")]
    Task ReleaseOneWayAsync(string leaseId);

    /// <summary>
    /// Tells the limiter how an upstream call went: its real token usage (correcting the estimate charged at the grant,
    /// idempotently), the upstream's rate-limit signals (a 429 with <c>Retry-After</c>, <c>x-ratelimit-*</c> headers:
    /// the whole cluster backs off and then probes back up), and the caller's usage tally. Send it before releasing the
    /// lease it names.
    /// </summary>
    [Alias("ReportUsage")]
    Task ReportUsageAsync(UsageReport report);

    /// <summary>Changes limits live. Lowering never revokes held leases; it withholds grants until in-use drops.</summary>
    [Alias("SetLimits")]
    Task<LimiterStatus> SetLimitsAsync(LimiterLimits limits);

    /// <summary>Returns a snapshot of the limiter.</summary>
    [Alias("GetStatus")]
    Task<LimiterStatus> GetStatusAsync();
}
