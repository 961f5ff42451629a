using Floodgate.Limiting;

namespace Floodgate.Grains.Items;

/// <summary>
/// The leases one attempt holds: one per limiter of its batch, acquired in the batch's fixed global order (so two items
/// can never wait on each other in a cycle), kept alive while held, and all released — also when a later acquire fails.
/// Each acquire carries a request id and is retried with it through cluster faults, so a grant whose answer was lost is
/// found again rather than leaked, and an abandoned acquire is cancelled by that id.
/// </summary>
internal sealed class HeldPermits : IAsyncDisposable
{
    private readonly List<LimiterLease> _leases;
    private readonly CancellationTokenSource _lost;

    private HeldPermits(List<LimiterLease> leases)
    {
        _leases = leases;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(leases.Select(l => l.LeaseLost).ToArray());
    }

    /// <summary>Cancelled as soon as any held lease is lost: the upstream call it guards must stop.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>
    /// Acquires a lease of every limiter of <paramref name="work"/> within <paramref name="timeout"/>, then confirms that
    /// every lease is still held with at least <paramref name="needed"/> of its TTL left, right before the caller's
    /// upstream call (an earlier lease may have expired while a later limiter kept the item waiting).
    /// </summary>
    public static async Task<HeldPermits> AcquireAsync(
        IGrainFactory grains, ItemWork work, TimeSpan timeout, TimeSpan needed, ItemPipelines pipelines, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        var held = new List<LimiterLease>(work.Limiters.Count);
        try
        {
            foreach (var name in work.Limiters)
            {
                var limiter = grains.GetGrain<IGlobalLimiterGrain>(name);
                var lease = await AcquireOneAsync(limiter, name, work, deadline, pipelines, time, cancellationToken);
                held.Add(new LimiterLease(limiter, lease, time));
            }

            foreach (var lease in held)
            {
                // The last lease was granted just now; an earlier one may have been lost while a later limiter kept us
                // waiting, or have too little TTL left for the call: ask its limiter (which also renews it).
                var justGranted = ReferenceEquals(lease, held[^1]) && lease.Lease.ExpiresAt - time.GetUtcNow() >= needed;
                var stillHeld = lease.IsHeld
                    && (justGranted || await pipelines.RunClusterCallAsync(ct => new ValueTask<bool>(lease.ConfirmAsync(ct)), cancellationToken));
                if (!stillHeld)
                {
                    throw new PermitLostException(lease.Lease.Limiter);
                }
            }

            return new HeldPermits(held);
        }
        catch
        {
            await ReleaseAllAsync(held);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAllAsync(_leases);
        _lost.Dispose();
    }

    private static async Task<Lease> AcquireOneAsync(
        IGlobalLimiterGrain limiter, string name, ItemWork work, DateTimeOffset deadline, ItemPipelines pipelines, TimeProvider time, CancellationToken cancellationToken)
    {
        var requestId = AcquireRequest.NewRequestId();
        try
        {
            var result = await pipelines.RunClusterCallAsync(
                async ct =>
                {
                    var left = deadline - time.GetUtcNow();
                    var answer = await limiter.AcquireWaitingAsync(
                        new AcquireRequest(work.BatchId, 1, left > TimeSpan.Zero ? left : TimeSpan.Zero, null, work.Priority, requestId), time, ct);
                    return answer.Failure is AcquireFailure.Fenced or AcquireFailure.Unavailable
                        ? throw new LimiterMovedException(name)
                        : answer;
                },
                cancellationToken);
            return result.Lease ?? throw new PermitUnavailableException(result.Reason ?? $"No permit of '{name}' was granted.");
        }
        catch
        {
            // Whatever was granted to this request and never reached us (cancelled, timed out, failed over) is released;
            // if the limiter stays unreachable, a grant that did happen ends by its TTL.
            await ClusterFaults.RetryAsync(() => limiter.CancelAcquireAsync(requestId), LimiterLease.ReleaseRetryLimit, time);
            throw;
        }
    }

    private static async Task ReleaseAllAsync(List<LimiterLease> leases)
    {
        for (var i = leases.Count - 1; i >= 0; i--)
        {
            await leases[i].DisposeAsync();
        }

        leases.Clear();
    }
}
