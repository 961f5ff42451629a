using System.Threading.RateLimiting;

namespace Floodgate.Tests.RateLimiting;

/// <summary>
/// The contract of a concurrency <see cref="RateLimiter"/> that queues oldest first, as one suite every implementation
/// runs: <see cref="ConcurrencyLimiter"/> (which proves the suite right) and the Floodgate adapter. Where a distributed
/// limiter only gets there after a round trip, the suite waits through <see cref="QueuedAsync"/> and
/// <see cref="SettledAsync"/> instead of asserting on timing.
/// </summary>
public abstract class RateLimiterContractTests
{
    /// <summary>Bound on a call that must not hang (a deadlock), far above any normal answer; not a timing assertion.</summary>
    protected static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    /// <summary>A fresh limiter of <paramref name="permitLimit"/> permits, nobody else using them, queueing oldest first.</summary>
    protected abstract Task<RateLimiter> CreateAsync(int permitLimit, int queueLimit);

    /// <summary>Returns once <paramref name="waiters"/> requests wait in the limiter's queue (in the order they were made).</summary>
    protected virtual Task QueuedAsync(RateLimiter limiter, int waiters) => Task.CompletedTask;

    /// <summary>Returns once the limiter's statistics reflect everything done so far.</summary>
    protected virtual Task SettledAsync(RateLimiter limiter) => Task.CompletedTask;

    [Fact]
    public async Task AttemptAcquire_FreeThenFullThenReleased_GrantsRefusesGrants()
    {
        var limiter = await CreateAsync(1, 1);

        var lease = limiter.AttemptAcquire();
        Assert.True(lease.IsAcquired);
        using (var refused = limiter.AttemptAcquire())
        {
            Assert.False(refused.IsAcquired);
        }

        lease.Dispose();
        using var again = limiter.AttemptAcquire();
        Assert.True(again.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_Full_WaitsUntilReleased()
    {
        var limiter = await CreateAsync(1, 1);
        var lease = await limiter.AcquireAsync();

        var waiting = limiter.AcquireAsync();
        await QueuedAsync(limiter, 1);
        Assert.False(waiting.IsCompleted);

        lease.Dispose();
        using var granted = await waiting;
        Assert.True(granted.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_TwoWaiting_GrantsOldestFirst()
    {
        var limiter = await CreateAsync(1, 2);
        var lease = await limiter.AcquireAsync();

        var first = limiter.AcquireAsync();
        await QueuedAsync(limiter, 1);
        var second = limiter.AcquireAsync();
        await QueuedAsync(limiter, 2);

        lease.Dispose();
        lease = await first;
        Assert.True(lease.IsAcquired);
        Assert.False(second.IsCompleted);
        lease.Dispose();
        using var last = await second;
        Assert.True(last.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_QueueFull_FailsAtOnceWithReasonPhrase()
    {
        var limiter = await CreateAsync(1, 1);
        using var held = limiter.AttemptAcquire();
        var waiting = limiter.AcquireAsync();
        await QueuedAsync(limiter, 1);

        using var refused = await limiter.AcquireAsync();

        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
        Assert.False(waiting.IsCompleted);
    }

    [Fact]
    public async Task AcquireAsync_QueueRoomFreedByGrant_QueuesAgain()
    {
        var limiter = await CreateAsync(1, 1);
        var lease = limiter.AttemptAcquire();
        var waiting = limiter.AcquireAsync();
        await QueuedAsync(limiter, 1);
        Assert.False((await limiter.AcquireAsync()).IsAcquired);

        lease.Dispose();
        lease = await waiting;
        Assert.True(lease.IsAcquired);
        waiting = limiter.AcquireAsync();
        await QueuedAsync(limiter, 1);
        Assert.False(waiting.IsCompleted);

        lease.Dispose();
        using var last = await waiting;
        Assert.True(last.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_QueueLimitZero_GrantsWhenFreeAndRefusesWhenFull()
    {
        var limiter = await CreateAsync(1, 0);

        using var granted = await limiter.AcquireAsync();
        using var refused = await limiter.AcquireAsync();

        Assert.True(granted.IsAcquired);
        Assert.False(refused.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_ConcurrentRequestsOnFreeLimiter_QueueLimitCountsOnlyWaiters()
    {
        var limiter = await CreateAsync(10, 2);

        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => limiter.AcquireAsync().AsTask()));

        Assert.All(leases, lease => Assert.True(lease.IsAcquired));
        foreach (var lease in leases)
        {
            lease.Dispose();
        }
    }

    [Fact]
    public async Task AttemptAcquire_MoreThanLimit_ThrowsArgumentOutOfRangeNamingPermitCount()
    {
        var limiter = await CreateAsync(1, 1);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => limiter.AttemptAcquire(2));

        Assert.Equal("permitCount", ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public async Task AcquireAsync_MoreThanLimit_ThrowsArgumentOutOfRangeNamingPermitCountWhateverTheQueueLimit(int queueLimit)
    {
        var limiter = await CreateAsync(1, queueLimit);

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync(2));

        Assert.Equal("permitCount", ex.ParamName);
    }

    [Fact]
    public async Task AttemptAcquire_NegativeCount_ThrowsArgumentOutOfRange()
    {
        var limiter = await CreateAsync(1, 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => limiter.AttemptAcquire(-1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync(-1));
    }

    [Fact]
    public async Task AttemptAcquireZero_PermitsFree_Succeeds()
    {
        var limiter = await CreateAsync(1, 1);

        using var lease = limiter.AttemptAcquire(0);

        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task AttemptAcquireZero_NoPermitFree_Fails()
    {
        var limiter = await CreateAsync(1, 1);
        using var held = limiter.AttemptAcquire(1);

        using var lease = limiter.AttemptAcquire(0);

        Assert.False(lease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsyncZero_PermitsFree_SucceedsAtOnce()
    {
        var limiter = await CreateAsync(1, 1);

        using var lease = await limiter.AcquireAsync(0);

        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsyncZero_NoPermitFree_WaitsForAPermitToBeFree()
    {
        var limiter = await CreateAsync(1, 1);
        var held = await limiter.AcquireAsync(1);

        var waiting = limiter.AcquireAsync(0);
        await QueuedAsync(limiter, 1);
        Assert.False(waiting.IsCompleted);

        held.Dispose();
        using var lease = await waiting;
        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_ReleaseOfTwoPermits_GrantsBothWaiters()
    {
        var limiter = await CreateAsync(2, 2);
        var held = await limiter.AcquireAsync(2);
        var first = limiter.AcquireAsync(1);
        await QueuedAsync(limiter, 1);
        var second = limiter.AcquireAsync(1);
        await QueuedAsync(limiter, 2);

        held.Dispose();

        using var lease1 = await first;
        using var lease2 = await second;
        Assert.True(lease1.IsAcquired);
        Assert.True(lease2.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_LargerRequestWaiting_SmallerLaterRequestWaitsBehindIt()
    {
        var limiter = await CreateAsync(2, 3);
        var held = await limiter.AcquireAsync(1);
        var large = limiter.AcquireAsync(2);
        await QueuedAsync(limiter, 1);
        var small = limiter.AcquireAsync(1);
        await QueuedAsync(limiter, 2);
        Assert.False(small.IsCompleted);

        held.Dispose();
        var largeLease = await large;
        Assert.True(largeLease.IsAcquired);
        Assert.False(small.IsCompleted);

        largeLease.Dispose();
        using var smallLease = await small;
        Assert.True(smallLease.IsAcquired);
    }

    [Fact]
    public async Task AttemptAcquire_LargerRequestWaiting_DoesNotOvertakeIt()
    {
        var limiter = await CreateAsync(2, 3);
        var held = await limiter.AcquireAsync(1);
        var large = limiter.AcquireAsync(2);
        await QueuedAsync(limiter, 1);

        using var attempt = limiter.AttemptAcquire(1);
        Assert.False(attempt.IsAcquired);

        held.Dispose();
        using var largeLease = await large;
        Assert.True(largeLease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsTaskCanceledWithTokenAndLeavesPermitFree()
    {
        var limiter = await CreateAsync(1, 1);
        var held = limiter.AttemptAcquire(1);
        using var cancellation = new CancellationTokenSource();
        var waiting = limiter.AcquireAsync(1, cancellation.Token);
        await QueuedAsync(limiter, 1);

        await cancellation.CancelAsync();
        var ex = await Assert.ThrowsAsync<TaskCanceledException>(() => waiting.AsTask());
        Assert.Equal(cancellation.Token, ex.CancellationToken);

        held.Dispose();
        await SettledAsync(limiter);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task AcquireAsync_CancelledBeforeTheCall_ThrowsTaskCanceledWithToken()
    {
        var limiter = await CreateAsync(1, 1);
        var held = limiter.AttemptAcquire(1);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        var ex = await Assert.ThrowsAsync<TaskCanceledException>(() => limiter.AcquireAsync(1, cancellation.Token).AsTask());

        Assert.Equal(cancellation.Token, ex.CancellationToken);
        held.Dispose();
        await SettledAsync(limiter);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_GivesItsQueueRoomBack()
    {
        var limiter = await CreateAsync(1, 1);
        var held = limiter.AttemptAcquire(1);
        using var cancellation = new CancellationTokenSource();
        var cancelled = limiter.AcquireAsync(1, cancellation.Token);
        await QueuedAsync(limiter, 1);
        await cancellation.CancelAsync();
        await Assert.ThrowsAsync<TaskCanceledException>(() => cancelled.AsTask());

        var waiting = limiter.AcquireAsync(1);
        await QueuedAsync(limiter, 1);
        Assert.False(waiting.IsCompleted);

        held.Dispose();
        using var lease = await waiting;
        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_ReleasedRightAfterCancel_PermitIsNotLostToTheCancelledRequest()
    {
        var limiter = await CreateAsync(1, 1);
        for (var round = 0; round < 5; round++)
        {
            var held = await limiter.AcquireAsync(1);
            using var cancellation = new CancellationTokenSource();
            var waiting = limiter.AcquireAsync(1, cancellation.Token);
            await QueuedAsync(limiter, 1);

            await cancellation.CancelAsync();
            held.Dispose();

            await Assert.ThrowsAsync<TaskCanceledException>(() => waiting.AsTask());
            using var next = await limiter.AcquireAsync(1);
            Assert.True(next.IsAcquired);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dispose_RequestsWaiting_FailsThemAndLaterCallsThrow(bool async)
    {
        var limiter = await CreateAsync(1, 3);
        using var held = limiter.AttemptAcquire(1);
        var waiting = new List<ValueTask<RateLimitLease>>();
        for (var i = 1; i <= 3; i++)
        {
            waiting.Add(limiter.AcquireAsync(1));
            await QueuedAsync(limiter, i);
        }

        if (async)
        {
            await limiter.DisposeAsync();
        }
        else
        {
            limiter.Dispose();
        }

        foreach (var wait in waiting)
        {
            using var lease = await wait;
            Assert.False(lease.IsAcquired);
        }

        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire(1));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => limiter.AcquireAsync(1).AsTask());
        Assert.Throws<ObjectDisposedException>(() => limiter.GetStatistics());
    }

    [Fact]
    public async Task AcquiredLease_Always_CarriesNoMetadataButListsTheNamesOfTheLimiter()
    {
        var limiter = await CreateAsync(1, 1);

        using var lease = limiter.AttemptAcquire(1);

        Assert.Contains(MetadataName.ReasonPhrase.Name, lease.MetadataNames);
        Assert.All(lease.MetadataNames, name => Assert.False(lease.TryGetMetadata(name, out _)));
        Assert.False(lease.TryGetMetadata(MetadataName.ReasonPhrase, out _));
    }

    [Fact]
    public async Task FailedLease_QueueFull_ListsEveryMetadataItCarries()
    {
        var limiter = await CreateAsync(1, 0);
        using var held = limiter.AttemptAcquire(1);

        using var refused = await limiter.AcquireAsync(1);

        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.ReasonPhrase.Name, out _));
        Assert.All(
            new[] { MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name }.Where(name => refused.TryGetMetadata(name, out _)),
            name => Assert.Contains(name, refused.MetadataNames));
    }

    [Fact]
    public async Task IdleDuration_LeaseHeld_IsNullAndAfterReleaseIsSet()
    {
        var limiter = await CreateAsync(1, 1);
        Assert.NotNull(limiter.IdleDuration);

        var lease = limiter.AttemptAcquire(1);
        Assert.Null(limiter.IdleDuration);

        lease.Dispose();
        Assert.NotNull(limiter.IdleDuration);
    }

    [Fact]
    public async Task GetStatistics_FreshLimiter_ReportsEveryPermitFree()
    {
        var limiter = await CreateAsync(7, 1);
        await SettledAsync(limiter);

        var stats = limiter.GetStatistics()!;

        Assert.Equal(7, stats.CurrentAvailablePermits);
        Assert.Equal(0, stats.CurrentQueuedCount);
        Assert.Equal(0, stats.TotalSuccessfulLeases);
        Assert.Equal(0, stats.TotalFailedLeases);
    }

    [Fact]
    public async Task GetStatistics_EachCall_ReturnsANewSnapshot()
    {
        var limiter = await CreateAsync(1, 1);
        await SettledAsync(limiter);
        var before = limiter.GetStatistics()!;

        using var lease = limiter.AttemptAcquire(1);
        await SettledAsync(limiter);
        var after = limiter.GetStatistics()!;

        Assert.NotSame(before, after);
        Assert.Equal(1, before.CurrentAvailablePermits);
        Assert.Equal(0, after.CurrentAvailablePermits);
    }

    [Fact]
    public async Task GetStatistics_SuccessesFailuresAndQueue_AreEachCounted()
    {
        var limiter = await CreateAsync(100, 50);

        var first = limiter.AttemptAcquire(60);
        await SettledAsync(limiter);
        Assert.Equal((40L, 0L, 1L, 0L), Snapshot(limiter));

        var queued = limiter.AcquireAsync(50);
        await QueuedAsync(limiter, 1);
        await SettledAsync(limiter);
        Assert.Equal((40L, 50L, 1L, 0L), Snapshot(limiter));

        using (var refusedByQueue = await limiter.AcquireAsync(1))
        {
            Assert.False(refusedByQueue.IsAcquired);
        }

        using (var refusedNow = limiter.AttemptAcquire(100))
        {
            Assert.False(refusedNow.IsAcquired);
        }

        await SettledAsync(limiter);
        Assert.Equal((40L, 50L, 1L, 2L), Snapshot(limiter));

        first.Dispose();
        using var second = await queued;
        await SettledAsync(limiter);
        Assert.Equal((50L, 0L, 2L, 2L), Snapshot(limiter));
    }

    [Fact]
    public async Task GetStatistics_ZeroPermitRequests_CountAsSuccessesAndFailures()
    {
        var limiter = await CreateAsync(100, 50);

        Assert.True(limiter.AttemptAcquire(0).IsAcquired);
        Assert.True((await limiter.AcquireAsync(0)).IsAcquired);
        using var all = limiter.AttemptAcquire(100);
        Assert.True(all.IsAcquired);
        Assert.False(limiter.AttemptAcquire(0).IsAcquired);

        await SettledAsync(limiter);
        Assert.Equal((0L, 0L, 3L, 1L), Snapshot(limiter));
    }

    [Fact]
    public async Task AttemptAcquire_OnSingleThreadedSynchronizationContext_DoesNotDeadlock()
    {
        var limiter = await CreateAsync(1, 1);

        var acquired = await SingleThreadedContext.RunAsync(() =>
        {
            using var lease = limiter.AttemptAcquire(1);
            return Task.FromResult(lease.IsAcquired);
        }).WaitAsync(HangBound);

        Assert.True(acquired);
    }

    [Fact]
    public async Task AcquireAsync_OnSingleThreadedSynchronizationContext_CompletesAndReleases()
    {
        var limiter = await CreateAsync(1, 1);

        var acquired = await SingleThreadedContext.RunAsync(async () =>
        {
            using (var lease = await limiter.AcquireAsync(1))
            {
                Assert.True(lease.IsAcquired);
            }

            using var again = limiter.AttemptAcquire(1);
            return again.IsAcquired;
        }).WaitAsync(HangBound);

        Assert.True(acquired);
    }

    private static (long Available, long Queued, long Successful, long Failed) Snapshot(RateLimiter limiter)
    {
        var stats = limiter.GetStatistics()!;
        return (stats.CurrentAvailablePermits, stats.CurrentQueuedCount, stats.TotalSuccessfulLeases, stats.TotalFailedLeases);
    }
}
