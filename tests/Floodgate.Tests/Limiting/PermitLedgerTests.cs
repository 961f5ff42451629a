using Floodgate.Grains.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

public sealed class PermitLedgerTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private PermitLedger CreateSut(int limit)
    {
        var ledger = new PermitLedger("test", _time);
        ledger.SetMaxConcurrency(limit);
        return ledger;
    }

    [Fact]
    public void TryAcquire_UpToLimit_GrantsThenRefuses()
    {
        var ledger = CreateSut(2);

        Assert.NotNull(ledger.TryAcquire("a", 1, Ttl));
        Assert.NotNull(ledger.TryAcquire("a", 1, Ttl));
        Assert.Null(ledger.TryAcquire("a", 1, Ttl));
        Assert.Equal(2, ledger.InUse);
    }

    [Fact]
    public void Release_Twice_SecondReturnsFalseAndFreesNothingMore()
    {
        var ledger = CreateSut(2);
        var lease = ledger.TryAcquire("a", 2, Ttl)!;

        Assert.True(ledger.Release(lease.LeaseId));
        Assert.False(ledger.Release(lease.LeaseId));
        Assert.Equal(0, ledger.InUse);
    }

    [Fact]
    public void Release_WithWaitersOfOneHolder_GrantsInFifoOrder()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiters = Enumerable.Range(0, 5).Select(_ => ledger.Enqueue("b", 1, Ttl)).ToList();

        var order = new List<int>();
        var current = held;
        for (var i = 0; i < waiters.Count; i++)
        {
            ledger.Release(current.LeaseId);
            var granted = waiters.FindIndex(w => w.Task.IsCompletedSuccessfully && !order.Contains(waiters.IndexOf(w)));
            order.Add(granted);
            current = waiters[granted].Task.Result;
        }

        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public void Pump_WithBigAndSmallHolder_AlternatesBetweenHolders()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("seed", 1, Ttl)!;
        var big = Enumerable.Range(0, 10).Select(_ => ledger.Enqueue("big", 1, Ttl)).ToList();
        var small = ledger.Enqueue("small", 1, Ttl);

        ledger.Release(held.LeaseId);
        Assert.True(big[0].Task.IsCompletedSuccessfully);
        ledger.Release(big[0].Task.Result.LeaseId);

        // The small holder arrived after ten waiters of the big one and is served in the next round.
        Assert.True(small.Task.IsCompletedSuccessfully);
        Assert.False(big[1].Task.IsCompleted);
    }

    [Fact]
    public void Pump_HeavyWaiterAtHead_IsNotOvertakenByLightOnes()
    {
        var ledger = CreateSut(3);
        var a = ledger.TryAcquire("x", 1, Ttl)!;
        var b = ledger.TryAcquire("x", 1, Ttl)!;
        var heavy = ledger.Enqueue("heavy", 3, Ttl);
        var light = ledger.Enqueue("light", 1, Ttl);

        // One permit is free, but the heavy waiter is first in the rotation: the light one must not jump it.
        Assert.False(light.Task.IsCompleted);
        ledger.Release(a.LeaseId);
        ledger.Release(b.LeaseId);

        Assert.True(heavy.Task.IsCompletedSuccessfully);
        Assert.False(light.Task.IsCompleted);
        ledger.Release(heavy.Task.Result.LeaseId);
        Assert.True(light.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void Abandon_QueuedWaiter_LeavesNoTraceAndCountsTimeout()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiter = ledger.Enqueue("b", 1, Ttl);

        Assert.True(ledger.Abandon(waiter, timedOut: true));
        Assert.Equal(0, ledger.Waiting);
        Assert.Empty(ledger.WaitersInGrantOrder());
        Assert.Equal(1, ledger.Timeouts);

        ledger.Release(held.LeaseId);
        Assert.Equal(0, ledger.InUse);
    }

    [Fact]
    public void Abandon_AlreadyGrantedWaiter_ReturnsFalse()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiter = ledger.Enqueue("b", 1, Ttl);
        ledger.Release(held.LeaseId);

        Assert.False(ledger.Abandon(waiter, timedOut: true));
        Assert.Equal(1, ledger.InUse);
    }

    [Fact]
    public void ExpireDue_AfterTtlWithoutRenewal_ReturnsPermitsAndGrantsWaiter()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("crashed", 1, Ttl);
        var waiter = ledger.Enqueue("b", 1, Ttl);

        _time.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, ledger.ExpireDue());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, ledger.ExpireDue());

        Assert.True(waiter.Task.IsCompletedSuccessfully);
        Assert.Equal(1, ledger.Expirations);
    }

    [Fact]
    public void Renew_BeforeExpiry_KeepsLeaseAlive()
    {
        var ledger = CreateSut(1);
        var lease = ledger.TryAcquire("a", 1, Ttl)!;

        _time.Advance(Ttl / 2);
        Assert.NotNull(ledger.Renew(lease.LeaseId));
        _time.Advance(Ttl / 2 + TimeSpan.FromSeconds(1));

        Assert.Equal(0, ledger.ExpireDue());
        Assert.Equal(1, ledger.InUse);
    }

    [Fact]
    public void Renew_UnknownLease_ReturnsNull()
    {
        Assert.Null(CreateSut(1).Renew("nope"));
    }

    [Fact]
    public void SetMaxConcurrency_Lowered_KeepsLeasesAndWithholdsUntilDrained()
    {
        var ledger = CreateSut(4);
        var leases = Enumerable.Range(0, 4).Select(_ => ledger.TryAcquire("a", 1, Ttl)!).ToList();
        ledger.SetMaxConcurrency(2);
        var waiter = ledger.Enqueue("b", 1, Ttl);

        Assert.Equal(4, ledger.InUse);
        ledger.Release(leases[0].LeaseId);
        ledger.Release(leases[1].LeaseId);
        Assert.False(waiter.Task.IsCompleted);
        ledger.Release(leases[2].LeaseId);
        Assert.True(waiter.Task.IsCompletedSuccessfully);
        Assert.Equal(2, ledger.InUse);
    }

    [Fact]
    public void SetMaxConcurrency_Raised_GrantsWaitersAtOnce()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("a", 1, Ttl);
        var waiters = Enumerable.Range(0, 3).Select(_ => ledger.Enqueue("b", 1, Ttl)).ToList();

        ledger.SetMaxConcurrency(3);

        Assert.Equal(2, waiters.Count(w => w.Task.IsCompletedSuccessfully));
        Assert.Equal(3, ledger.HighWaterMark);
    }

    [Theory]
    [InlineData(4242)]
    [InlineData(7)]
    [InlineData(90210)]
    public void RandomSchedule_NeverExceedsLimitAndDrainsToZero(int seed)
    {
        // A seeded random schedule of acquires (random weights, holders and priorities), releases, renewals,
        // timeouts/cancellations, expiries and limit changes.
        var random = new Random(seed);
        var limit = 5;
        var ledger = CreateSut(limit);
        var held = new List<string>();
        var waiters = new List<PermitLedger.Waiter>();
        for (var step = 0; step < 5000; step++)
        {
            var grantsBefore = ledger.Grants;
            switch (random.Next(7))
            {
                case 0:
                case 1:
                    var weight = random.Next(1, 4);
                    var holder = $"h{random.Next(4)}";
                    if (ledger.TryAcquire(holder, weight, Ttl) is { } lease)
                    {
                        held.Add(lease.LeaseId);
                    }
                    else
                    {
                        waiters.Add(ledger.Enqueue(holder, weight, Ttl, (Floodgate.Limiting.AcquirePriority)random.Next(-1, 2)));
                    }

                    break;
                case 2 when held.Count > 0:
                    var index = random.Next(held.Count);
                    ledger.Release(held[index]);
                    held.RemoveAt(index);
                    break;
                case 3 when waiters.Count > 0:
                    ledger.Abandon(waiters[random.Next(waiters.Count)], timedOut: random.Next(2) == 0);
                    break;
                case 4:
                    _time.Advance(TimeSpan.FromSeconds(random.Next(0, 3)));
                    ledger.ExpireDue();
                    break;
                case 5 when held.Count > 0:
                    ledger.Renew(held[random.Next(held.Count)]);
                    break;
                case 6 when random.Next(20) == 0:
                    limit = random.Next(3, 8);
                    ledger.SetMaxConcurrency(limit);
                    break;
            }

            foreach (var granted in waiters.Where(w => w.Task.IsCompletedSuccessfully).ToList())
            {
                held.Add(granted.Task.Result.LeaseId);
                waiters.Remove(granted);
            }

            waiters.RemoveAll(w => w.Task.IsCanceled);
            // A lowered limit may leave more in use than it allows (held leases are never revoked), but a step
            // that granted anything must have stayed within the limit in force.
            Assert.InRange(ledger.InUse, 0, ledger.Grants > grantsBefore ? limit : 7);
            Assert.Equal(waiters.Count, ledger.Waiting);
        }

        foreach (var waiter in waiters)
        {
            ledger.Abandon(waiter, timedOut: false);
        }

        foreach (var granted in waiters.Where(w => w.Task.IsCompletedSuccessfully))
        {
            held.Add(granted.Task.Result.LeaseId);
        }

        foreach (var id in held)
        {
            ledger.Release(id);
        }

        Assert.Equal(0, ledger.InUse);
        Assert.Equal(0, ledger.Waiting);
    }

    [Fact]
    public void WaitersInGrantOrder_TwoHolders_InterleavesLikeTheGrants()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("seed", 1, Ttl);
        ledger.Enqueue("a", 1, Ttl);
        ledger.Enqueue("a", 1, Ttl);
        ledger.Enqueue("a", 1, Ttl);
        ledger.Enqueue("b", 1, Ttl);

        var order = ledger.WaitersInGrantOrder();

        Assert.Equal(["a", "b", "a", "a"], order.Select(w => w.Holder));
        Assert.Equal([0, 1, 2, 3], order.Select(w => w.Position));
    }
}
