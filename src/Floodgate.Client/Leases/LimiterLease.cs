using Floodgate.Limiting;

namespace Floodgate.Client.Leases;

/// <summary>
/// Permits held on a global limiter, kept alive until disposed; disposing releases them exactly once. Used by the SDK for
/// work done outside Floodgate and, inside a <see cref="LimiterLeaseSet"/>, by the gateway and by item grains.
/// <para>Renewal: every third of the TTL. A failed renewal (silo failover, network) is retried every
/// <see cref="RetryFraction"/> of the TTL for as long as the lease lives; if <see cref="Lease.ExpiresAt"/> passes without a
/// successful renewal, or the limiter answers that the lease is gone, the lease reports itself lost
/// (<see cref="IsHeld"/> false, <see cref="LeaseLost"/> cancelled): its permits may already be someone else's.</para>
/// </summary>
public sealed class LimiterLease : IAsyncDisposable
{
    /// <summary>Share of the TTL between retries of a failed renewal.</summary>
    public const int RetryFraction = 10;

    /// <summary>Longest a release is retried through cluster faults (a silo failover) before the TTL is left to end it.</summary>
    public static readonly TimeSpan ReleaseRetryLimit = TimeSpan.FromSeconds(15);

    private readonly IGlobalLimiterGrain _limiter;
    private readonly Func<IGlobalLimiterGrain, string, Task> _release;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _renewal;
    private int _released;

    /// <summary>Starts keeping <paramref name="lease"/> alive.</summary>
    public LimiterLease(IGlobalLimiterGrain limiter, Lease lease, TimeProvider time)
        : this(limiter, lease, time, LeaseSetPolicy.ReleaseEach)
    {
    }

    /// <summary>Starts keeping <paramref name="lease"/> alive; <paramref name="release"/> sends its release to the limiter.</summary>
    internal LimiterLease(IGlobalLimiterGrain limiter, Lease lease, TimeProvider time, Func<IGlobalLimiterGrain, string, Task> release)
    {
        _limiter = limiter;
        _release = release;
        _time = time;
        Lease = lease;
        _renewal = StartRenewal();
    }

    /// <summary>
    /// Starts the renewal loop here (its first delay is set before this returns) but outside a caller's synchronization
    /// context (a UI thread, a single-threaded test context): a loop resuming there could wait behind a caller blocked on a
    /// synchronous acquire, and a release waits for the loop to end. Inside a grain the loop keeps the activation's
    /// scheduler, which its renewals (grain calls) need.
    /// </summary>
    private Task StartRenewal()
    {
        var context = SynchronizationContext.Current;
        if (context is null)
        {
            return RenewLoopAsync(_stop.Token);
        }

        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return RenewLoopAsync(_stop.Token);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>The lease as last granted or renewed.</summary>
    public Lease Lease { get; private set; }

    /// <summary>False once the lease is lost (expired unrenewed, or gone at the limiter) or released.</summary>
    public bool IsHeld { get; private set; } = true;

    /// <summary>
    /// Cancelled when the lease is lost: work guarded by the lease should stop, since its permits may already be
    /// someone else's.
    /// </summary>
    public CancellationToken LeaseLost => _lost.Token;

    /// <summary>
    /// Asks the limiter right now whether the lease is still held, extending it by its TTL. Returns false (and reports
    /// the lease lost) when the limiter says it is gone; throws when the limiter cannot be reached.
    /// </summary>
    public async Task<bool> ConfirmAsync(CancellationToken cancellationToken = default)
    {
        if (!IsHeld)
        {
            return false;
        }

        var renewed = await _limiter.RenewAsync(RenewRequest.For(Lease)).WaitAsync(cancellationToken);
        if (renewed is null)
        {
            await MarkLostAsync();
            return false;
        }

        Lease = renewed;
        return true;
    }

    /// <summary>
    /// Releases the permits now. Through a failover (the limiter's silo died or is stopping) the release is retried until
    /// it lands, the lease would have expired anyway, or <see cref="ReleaseRetryLimit"/> passes; a lost release would make
    /// the limiter's successor count the permits until the lease's TTL. (A stopping silo waits for it: its items' releases
    /// must reach the limiter's successor.)
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        await _renewal;
        _stop.Dispose();
        var held = IsHeld;
        IsHeld = false;
        _lost.Dispose();
        if (!held)
        {
            return;
        }

        var left = Lease.ExpiresAt - _time.GetUtcNow();
        // Not deliverable within that: the lease then ends by its TTL.
        await ClusterFaults.RetryAsync(() => _release(_limiter, Lease.LeaseId), left < ReleaseRetryLimit ? left : ReleaseRetryLimit, _time);
    }

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        var due = _time.GetUtcNow() + Lease.Ttl / 3;
        try
        {
            while (true)
            {
                var wait = due - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    // A release cancels this wait: end quietly, without an exception per lease on the normal path.
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var left = Lease.ExpiresAt - _time.GetUtcNow();
                try
                {
                    if (left <= TimeSpan.Zero)
                    {
                        throw new TimeoutException("The lease expired before a renewal succeeded.");
                    }

                    // A renewal stuck on an unreachable silo must not outlive the lease.
                    var renewed = await _limiter.RenewAsync(RenewRequest.For(Lease)).WaitAsync(left, _time, cancellationToken);
                    if (renewed is null)
                    {
                        await MarkLostAsync();
                        return;
                    }

                    Lease = renewed;
                    due = _time.GetUtcNow() + Lease.Ttl / 3;
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    if (_time.GetUtcNow() >= Lease.ExpiresAt)
                    {
                        await MarkLostAsync();
                        return;
                    }

                    due = _time.GetUtcNow() + Lease.Ttl / RetryFraction;
                    if (due > Lease.ExpiresAt)
                    {
                        due = Lease.ExpiresAt;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task MarkLostAsync()
    {
        IsHeld = false;
        try
        {
            await _lost.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: nobody listens any more.
        }
    }
}
