using Floodgate.Limiting;

namespace Floodgate.Client.Leases;

/// <summary>
/// Leases of several limiters held for one upstream call, each kept alive by its <see cref="LimiterLease"/>; disposing
/// releases all of them at once. Acquired one limiter at a time in ordinal order — so no two callers can wait on each
/// other in a cycle — each acquire riding through limiter moves by its request id; when a later acquire fails, the
/// earlier leases are released at once. Right before it is handed out, every earlier lease is confirmed (held, renewed):
/// one may have expired while a later limiter kept the caller waiting. Used by the SDK (and so the gateway) and by item
/// grains.
/// </summary>
public sealed class LimiterLeaseSet : IAsyncDisposable
{
    private readonly List<LimiterLease> _leases;
    private readonly CancellationTokenSource _lost;

    private LimiterLeaseSet(List<LimiterLease> leases)
    {
        _leases = leases;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(leases.Select(l => l.LeaseLost).ToArray());
    }

    /// <summary>The held leases, in acquisition (ordinal) order.</summary>
    public IReadOnlyList<LimiterLease> Leases => _leases;

    /// <summary>Cancelled as soon as any lease is lost: the call it guards must stop, its permits may be someone else's.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>The lease of <paramref name="limiter"/>; null when the set holds none of it.</summary>
    public LimiterLease? LeaseOf(string limiter) =>
        _leases.FirstOrDefault(l => string.Equals(l.Lease.Limiter, limiter, StringComparison.Ordinal));

    /// <summary>Releases every lease (concurrently; each exactly once).</summary>
    public async ValueTask DisposeAsync()
    {
        await ReleaseAllAsync(_leases);
        _lost.Dispose();
    }

    /// <summary>
    /// Acquires one permit of every limiter of <paramref name="request"/> for <paramref name="holder"/>, within the
    /// request's wait, with leases of <paramref name="ttl"/> (null: each limiter's default); <paramref name="policy"/> says
    /// how limiter calls ride through faults, what TTL the leases need left, and what is thrown when a limiter grants
    /// nothing or an earlier lease was lost. Nothing is held when it throws.
    /// </summary>
    internal static async Task<LimiterLeaseSet> AcquireAsync(
        IGrainFactory grains, LeaseSetRequest request, string holder, TimeSpan? ttl, LeaseSetPolicy policy, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + request.WaitTimeout;
        var held = new List<LimiterLease>(request.Limiters.Count);
        try
        {
            foreach (var name in request.Limiters.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var limiter = policy.Limiter(grains, name);
                var left = deadline - time.GetUtcNow();
                var result = await policy.Acquire.AcquireAsync(
                    limiter,
                    new AcquireRequest(holder, 1, left > TimeSpan.Zero ? left : TimeSpan.Zero, ttl, request.Priority, null, request.Tokens),
                    cancellationToken);
                held.Add(new LimiterLease(limiter, result.Lease ?? throw policy.NotGranted(name, result), time, policy.Release));
            }

            for (var i = 0; i < held.Count; i++)
            {
                // The lease granted last is fresh unless the call needs more TTL than it has left; an earlier one may have
                // been lost while a later limiter kept the caller waiting: ask its limiter (which also renews it).
                var lease = held[i];
                var fresh = i == held.Count - 1 && lease.Lease.ExpiresAt - time.GetUtcNow() >= policy.RequiredTtl;
                var stillHeld = lease.IsHeld && (fresh || await policy.ConfirmRetry(lease.ConfirmAsync, cancellationToken));
                if (!stillHeld)
                {
                    throw policy.Lost(lease.Lease.Limiter);
                }
            }

            return new LimiterLeaseSet(held);
        }
        catch
        {
            await ReleaseAllAsync(held);
            throw;
        }
    }

    private static async Task ReleaseAllAsync(List<LimiterLease> leases)
    {
        await Task.WhenAll(leases.Select(l => l.DisposeAsync().AsTask()));
        leases.Clear();
    }
}
