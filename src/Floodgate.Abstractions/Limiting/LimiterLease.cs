namespace Floodgate.Limiting;

/// <summary>
/// Permits held on a global limiter. Renews itself at a third of its TTL until disposed; disposing releases it exactly
/// once. If renewal fails the lease expires on the silo within its TTL. Used by the SDK for work done outside Floodgate
/// and by item grains while they hold several limiters.
/// </summary>
public sealed class LimiterLease : IAsyncDisposable
{
    private readonly IGlobalLimiterGrain _limiter;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _renewal;
    private int _released;

    /// <summary>Starts keeping <paramref name="lease"/> alive.</summary>
    public LimiterLease(IGlobalLimiterGrain limiter, Lease lease, TimeProvider time)
    {
        _limiter = limiter;
        Lease = lease;
        _renewal = RenewAsync(time, _stop.Token);
    }

    /// <summary>The lease as last granted or renewed.</summary>
    public Lease Lease { get; private set; }

    /// <summary>False once the silo said the lease is gone (expired or released elsewhere).</summary>
    public bool IsHeld { get; private set; } = true;

    /// <summary>
    /// Cancelled when the limiter says the lease is gone (it expired, e.g. after renewals failed through a long outage):
    /// work guarded by the lease should stop, since its permit may already be someone else's.
    /// </summary>
    public CancellationToken LeaseLost => _lost.Token;

    /// <summary>Releases the permits now.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        await _renewal;
        _stop.Dispose();
        _lost.Dispose();
        if (IsHeld)
        {
            await _limiter.ReleaseAsync(Lease.LeaseId);
            IsHeld = false;
        }
    }

    private async Task RenewAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Lease.Ttl / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    // Disposal must not wait for a renewal stuck on an unreachable silo.
                    if (await _limiter.RenewAsync(RenewRequest.For(Lease)).WaitAsync(cancellationToken) is { } renewed)
                    {
                        Lease = renewed;
                    }
                    else
                    {
                        IsHeld = false;
                        await _lost.CancelAsync();
                        return;
                    }
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // A failed renewal (silo failover) is retried at the next tick; the TTL covers two misses.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
