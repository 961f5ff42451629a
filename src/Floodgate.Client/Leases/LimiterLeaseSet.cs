using Floodgate.Limiting;

namespace Floodgate.Client.Leases;

/// <summary>
/// Leases of several limiters held for one upstream call, each kept alive by its <see cref="LimiterLease"/>; disposing
/// releases all of them at once. Acquired one limiter at a time in ordinal order — so no two callers can wait on each
/// other in a cycle — each acquire riding through limiter moves by its request id; when a later acquire fails, the
/// earlier leases are released at once. Right before it is handed out, every earlier lease is confirmed (held, renewed):
/// one may have expired while a later limiter kept the caller waiting.
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

    internal static async Task<LimiterLeaseSet> AcquireAsync(
        IGrainFactory grains, FailoverAcquire acquire, LeaseSetRequest request, string holder, TimeSpan ttl, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + request.WaitTimeout;
        var held = new List<LimiterLease>(request.Limiters.Count);
        try
        {
            foreach (var name in request.Limiters.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var limiter = grains.GetGrain<IGlobalLimiterGrain>(name);
                var left = deadline - time.GetUtcNow();
                var result = await acquire.AcquireAsync(
                    limiter,
                    new AcquireRequest(holder, 1, left > TimeSpan.Zero ? left : TimeSpan.Zero, ttl, request.Priority, null, request.Tokens),
                    cancellationToken);
                if (result.Lease is not { } lease)
                {
                    throw new LeaseUnavailableException(name, result.Reason ?? "No permit was granted.", result.RetryAfter);
                }

                held.Add(new LimiterLease(limiter, lease, time));
            }

            for (var i = 0; i < held.Count - 1; i++)
            {
                if (!await held[i].ConfirmAsync(cancellationToken))
                {
                    throw new LeaseUnavailableException(held[i].Lease.Limiter, "The permit expired while a later limiter kept the call waiting.", TimeSpan.Zero);
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
