using Floodgate.Grains.Limiting;
using Floodgate.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

/// <summary>The ledger's persisted table, rate window, request ids and expiry index, with fake time.</summary>
public sealed class PermitLedgerDurabilityTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private PermitLedger CreateSut(int limit, int? rpm = null)
    {
        var ledger = new PermitLedger("test", _time);
        ledger.SetMaxConcurrency(limit);
        ledger.SetRate(rpm, 1);
        return ledger;
    }

    [Fact]
    public void TryAcquire_WeightedGrants_EachCallCountsAgainstTheRateBudget()
    {
        var ledger = CreateSut(limit: 100, rpm: 4);

        var first = ledger.TryAcquire("h", 3, Ttl);
        var second = ledger.TryAcquire("h", 2, Ttl);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.Equal(1, ledger.Rate.Available);
        Assert.NotNull(ledger.TryAcquire("h", 1, Ttl));
    }

    [Fact]
    public void Enqueue_WeightAboveRateBudget_CouldNeverBeGranted()
    {
        var ledger = CreateSut(limit: 100, rpm: 4);

        Assert.False(ledger.CouldEverGrant(5));
        Assert.True(ledger.CouldEverGrant(4));
    }

    [Fact]
    public void SetRate_BelowAQueuedWeight_FailsThatWaiter()
    {
        var ledger = CreateSut(limit: 10);
        var held = ledger.TryAcquire("x", 10, Ttl)!;
        var heavier = ledger.Enqueue("heavier", 8, Ttl);
        var light = ledger.Enqueue("light", 1, Ttl);

        ledger.SetRate(5, 1);
        ledger.Release(held.LeaseId);

        Assert.IsType<Floodgate.Validation.FloodgateValidationException>(heavier.Task.Exception?.InnerException);
        Assert.True(light.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void Restore_RateHistory_ReactivationNeverPassesTheBudgetWithinAMinute()
    {
        var ledger = CreateSut(limit: 100, rpm: 10);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(ledger.TryAcquire("h", 1, Ttl));
        }

        var history = ledger.Rate.Snapshot();
        _time.Advance(TimeSpan.FromSeconds(20));
        var successor = CreateSut(limit: 100, rpm: 10);
        successor.Restore([], history);

        Assert.Null(successor.TryAcquire("h", 1, Ttl));
        _time.Advance(TimeSpan.FromSeconds(41));
        Assert.NotNull(successor.TryAcquire("h", 1, Ttl));
    }

    [Fact]
    public void Snapshot_RateBuckets_NeverEarlierThanTheGrants()
    {
        var ledger = CreateSut(limit: 100, rpm: 100);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        ledger.TryAcquire("h", 2, Ttl);
        var grantedAt = _time.GetUtcNow();

        var bucket = Assert.Single(ledger.Rate.Snapshot());

        Assert.Equal(2, bucket.Calls);
        Assert.True(bucket.At >= grantedAt);
    }

    [Fact]
    public void Restore_LeasesCountUntilTheirPersistedExpiryUnlessReleased()
    {
        var ledger = CreateSut(2);
        var a = ledger.TryAcquire("a", 1, Ttl)!;
        ledger.TryAcquire("b", 1, Ttl);
        var table = ledger.SnapshotLeases();
        _time.Advance(Ttl - TimeSpan.FromSeconds(5));

        var successor = CreateSut(2);
        successor.Restore(table, []);

        Assert.Equal(2, successor.InUse);
        Assert.Equal(0, successor.ExpireDue());
        Assert.Null(successor.TryAcquire("c", 1, Ttl));
        Assert.True(successor.Release(a.LeaseId));
        Assert.NotNull(successor.TryAcquire("c", 1, Ttl));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, successor.ExpireDue());
    }

    [Fact]
    public void Restore_AfterCleanHandOver_LeasesLiveExactlyUntilTheirExpiry()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("a", 1, Ttl);
        var table = ledger.SnapshotLeases();

        var successor = CreateSut(1);
        successor.Restore(table, []);
        _time.Advance(Ttl);

        Assert.Equal(1, successor.ExpireDue());
        Assert.Equal(1, successor.Restored);
    }

    [Fact]
    public void Restore_LeaseWithRequestId_RepeatedAcquireFindsItAndCancelReleasesIt()
    {
        var ledger = CreateSut(1);
        var granted = ledger.TryAcquire("a", 1, Ttl, "req-1")!;
        var successor = CreateSut(1);
        successor.Restore(ledger.SnapshotLeases(), []);

        Assert.Equal(granted.LeaseId, successor.LeaseOf("req-1")?.LeaseId);
        Assert.True(successor.CancelRequest("req-1"));
        Assert.Equal(0, successor.InUse);
    }

    [Fact]
    public void CancelRequest_BeforeTheAcquireArrives_RefusesItLater()
    {
        var ledger = CreateSut(1);

        Assert.False(ledger.CancelRequest("req-1"));

        Assert.True(ledger.IsCancelled("req-1"));
        _time.Advance(PermitLedger.CancelledRequestMemory);
        Assert.False(ledger.IsCancelled("req-1"));
    }

    [Fact]
    public void CancelRequest_QueuedWaiter_RemovesItAndServesTheNext()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("h", 1, Ttl)!;
        var cancelled = ledger.Enqueue("a", 1, Ttl, requestId: "req-a");
        var next = ledger.Enqueue("b", 1, Ttl);

        Assert.True(ledger.CancelRequest("req-a"));
        ledger.Release(held.LeaseId);

        Assert.True(cancelled.Task.IsCanceled);
        Assert.True(next.Task.IsCompletedSuccessfully);
        Assert.Null(ledger.WaiterOf("req-a"));
    }

    [Fact]
    public void ExpireDue_RenewedLease_StaleIndexEntryDoesNotExpireIt()
    {
        var ledger = CreateSut(2);
        var lease = ledger.TryAcquire("h", 1, Ttl)!;
        _time.Advance(Ttl / 2);
        ledger.Renew(lease.LeaseId);
        _time.Advance(Ttl / 2);

        Assert.Equal(0, ledger.ExpireDue());
        Assert.True(ledger.Holds(lease.LeaseId));
        _time.Advance(Ttl / 2);
        Assert.Equal(1, ledger.ExpireDue());
    }

    [Fact]
    public void ExpiryIndex_ManyGrantsAndReleases_StaysBoundedByTheLeasesHeld()
    {
        var ledger = CreateSut(10);
        var held = ledger.TryAcquire("h", 1, Ttl)!;
        for (var i = 0; i < 10_000; i++)
        {
            ledger.Release(ledger.TryAcquire("h", 1, Ttl)!.LeaseId);
            ledger.Renew(held.LeaseId);
        }

        Assert.InRange(ledger.ExpiryIndexSize, 1, 2 * ledger.LeaseCount + 65);
        _time.Advance(Ttl);
        Assert.Equal(1, ledger.ExpireDue());
    }

    [Fact]
    public void Renew_NamingAnotherHolder_RenewsNothing()
    {
        var ledger = CreateSut(1);
        var lease = ledger.TryAcquire("owner", 1, Ttl)!;

        Assert.Null(ledger.Renew(lease.LeaseId, "someone-else"));
        Assert.NotNull(ledger.Renew(lease.LeaseId, "owner"));
    }

    [Fact]
    public void Version_GrantReleaseRenew_EachMovesIt()
    {
        var ledger = CreateSut(1);
        var v0 = ledger.Version;
        var lease = ledger.TryAcquire("h", 1, Ttl)!;
        var v1 = ledger.Version;
        ledger.Renew(lease.LeaseId);
        var v2 = ledger.Version;
        ledger.Release(lease.LeaseId);

        Assert.True(v0 < v1 && v1 < v2 && v2 < ledger.Version);
    }
}
