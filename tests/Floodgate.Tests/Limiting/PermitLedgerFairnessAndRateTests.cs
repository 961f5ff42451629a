using Floodgate.Grains.Limiting;
using Floodgate.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

public sealed class PermitLedgerFairnessAndRateTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private PermitLedger CreateSut(int limit, int? rpm = null, double factor = 1)
    {
        var ledger = new PermitLedger("test", _time);
        ledger.SetMaxConcurrency(limit);
        ledger.SetRate(rpm, factor);
        return ledger;
    }

    /// <summary>Releases every granted lease of <paramref name="waiters"/> as it is granted, until all are granted; returns grant order.</summary>
    private static List<PermitLedger.Waiter> DrainOneAtATime(PermitLedger ledger, Lease first, IReadOnlyCollection<PermitLedger.Waiter> waiters)
    {
        var order = new List<PermitLedger.Waiter>();
        var pending = new HashSet<PermitLedger.Waiter>(waiters);
        var current = first;
        while (pending.Count > 0)
        {
            ledger.Release(current.LeaseId);
            var granted = pending.Single(w => w.Task.IsCompletedSuccessfully);
            pending.Remove(granted);
            order.Add(granted);
            current = granted.Task.Result;
        }

        return order;
    }

    [Fact]
    public void Pump_HugeHolderThenSmallHolder_SmallIsServedWithinOneRound()
    {
        var ledger = CreateSut(1);
        var first = ledger.TryAcquire("seed", 1, Ttl)!;
        var big = Enumerable.Range(0, 10_000).Select(_ => ledger.Enqueue("big-batch", 1, Ttl)).ToList();
        var small = Enumerable.Range(0, 10).Select(_ => ledger.Enqueue("small-batch", 1, Ttl)).ToList();

        var order = DrainOneAtATime(ledger, first, [.. big.Take(30), .. small]);

        // Grants alternate: the small batch's k-th item waits for at most k grants of the big one.
        var smallPositions = small.Select(w => order.IndexOf(w)).ToList();
        Assert.Equal([1, 3, 5, 7, 9, 11, 13, 15, 17, 19], smallPositions);
    }

    [Fact]
    public void Pump_HighPriorityArrivingLater_IsServedBeforeNormal()
    {
        var ledger = CreateSut(1);
        var first = ledger.TryAcquire("seed", 1, Ttl)!;
        var normal = ledger.Enqueue("n", 1, Ttl, AcquirePriority.Normal);
        var low = ledger.Enqueue("l", 1, Ttl, AcquirePriority.Low);
        var high = ledger.Enqueue("h", 1, Ttl, AcquirePriority.High);

        var order = DrainOneAtATime(ledger, first, [normal, low, high]);

        Assert.Equal([high, normal, low], order);
        Assert.Empty(ledger.WaitersInGrantOrder());
    }

    [Fact]
    public void WaitersInGrantOrder_MixedPriorities_ListsHighFirst()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("seed", 1, Ttl);
        ledger.Enqueue("n", 1, Ttl);
        ledger.Enqueue("h", 1, Ttl, AcquirePriority.High);

        Assert.Equal(["h", "n"], ledger.WaitersInGrantOrder().Select(w => w.Holder));
    }

    [Fact]
    public void Pump_WeightedAndLightHolders_WeightedIsNotStarved()
    {
        var ledger = CreateSut(4);
        var light = Enumerable.Range(0, 4).Select(_ => ledger.TryAcquire("light", 1, Ttl)!).ToList();
        var heavy = ledger.Enqueue("heavy", 4, Ttl);
        var moreLight = Enumerable.Range(0, 20).Select(_ => ledger.Enqueue("light", 1, Ttl)).ToList();

        foreach (var lease in light)
        {
            Assert.False(heavy.Task.IsCompleted);
            ledger.Release(lease.LeaseId);
        }

        Assert.True(heavy.Task.IsCompletedSuccessfully);
        Assert.All(moreLight, w => Assert.False(w.Task.IsCompleted));
    }

    [Fact]
    public void TryAcquire_OverASimulatedMinute_GrantsAtMostRpmTimesFactor()
    {
        var ledger = CreateSut(limit: 1000, rpm: 600, factor: 0.8);
        var grantTimes = new List<DateTimeOffset>();

        // Ask 50 times a second for three minutes, releasing at once: only the rate budget limits.
        for (var tick = 0; tick < 180 * 50; tick++)
        {
            if (ledger.TryAcquire("h", 1, Ttl) is { } lease)
            {
                grantTimes.Add(_time.GetUtcNow());
                ledger.Release(lease.LeaseId);
            }

            _time.Advance(TimeSpan.FromMilliseconds(20));
        }

        Assert.Equal(480, ledger.Rate.Budget);
        var worstMinute = grantTimes.Max(start => grantTimes.Count(t => t >= start && t < start + TimeSpan.FromMinutes(1)));
        Assert.InRange(worstMinute, 1, 480);
        Assert.True(grantTimes.Count > 480 * 2, "the budget refills as the window slides");
    }

    [Fact]
    public void WakeAt_WaiterBlockedByRate_IsWhenTheOldestGrantLeavesTheWindow()
    {
        var ledger = CreateSut(limit: 10, rpm: 2);
        var start = _time.GetUtcNow();
        ledger.Release(ledger.TryAcquire("h", 1, Ttl)!.LeaseId);
        _time.Advance(TimeSpan.FromSeconds(10));
        ledger.Release(ledger.TryAcquire("h", 1, Ttl)!.LeaseId);
        var waiter = ledger.Enqueue("h", 1, Ttl);

        Assert.False(waiter.Task.IsCompleted);
        Assert.Equal(start + TimeSpan.FromMinutes(1), ledger.WakeAt);
        _time.Advance(TimeSpan.FromSeconds(50));
        ledger.Pump();
        Assert.True(waiter.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void StopGranting_WithWaiters_FailsThemAsMovedAndGrantsNothingMore()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("h", 1, Ttl);
        var waiter = ledger.Enqueue("w", 1, Ttl);

        ledger.StopGranting(() => new LimiterMovedException(ledger.Name));

        Assert.IsType<LimiterMovedException>(waiter.Task.Exception?.InnerException);
        Assert.Equal(0, ledger.Waiting);
        Assert.Null(ledger.TryAcquire("x", 1, Ttl));
    }

    [Fact]
    public void SetMaxConcurrency_BelowAQueuedWeight_FailsThatWaiterAndServesTheOthers()
    {
        var ledger = CreateSut(5);
        var held = Enumerable.Range(0, 5).Select(_ => ledger.TryAcquire("x", 1, Ttl)!).ToList();
        var heavy = ledger.Enqueue("heavy", 5, Ttl);
        var light = ledger.Enqueue("light", 1, Ttl);

        ledger.SetMaxConcurrency(3);
        foreach (var lease in held)
        {
            ledger.Release(lease.LeaseId);
        }

        Assert.IsType<Floodgate.Validation.FloodgateValidationException>(heavy.Task.Exception?.InnerException);
        Assert.True(light.Task.IsCompletedSuccessfully);
        Assert.Equal(0, ledger.Waiting);
    }
}
