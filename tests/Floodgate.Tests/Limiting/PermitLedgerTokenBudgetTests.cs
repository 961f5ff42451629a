using Floodgate.Grains.Limiting;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

/// <summary>The ledger's tokens-per-minute budget: estimates charged at the grant, settled by usage reports, with fake time.</summary>
public sealed class PermitLedgerTokenBudgetTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private PermitLedger CreateSut(int limit = 100, int? tpm = 1000, int? rpm = null)
    {
        var ledger = new PermitLedger("test", _time);
        ledger.SetMaxConcurrency(limit);
        ledger.SetRate(rpm, 1);
        ledger.SetTokenRate(tpm, 1);
        return ledger;
    }

    [Fact]
    public void TryAcquire_EstimatesFillTheBudget_NextCallWaitsUntilTheOldestChargeLeavesTheWindow()
    {
        var ledger = CreateSut(tpm: 1000);
        Assert.NotNull(ledger.TryAcquire("t", 1, Ttl, tokens: 600));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.NotNull(ledger.TryAcquire("t", 1, Ttl, tokens: 400));

        var waiter = ledger.Enqueue("t", 1, Ttl, tokens: 500);

        Assert.False(waiter.Task.IsCompleted);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(50), ledger.WakeAt);
        _time.Advance(TimeSpan.FromSeconds(50));
        ledger.Pump();
        Assert.True(waiter.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void ReportUsage_RealUsageBelowTheEstimate_FreesTheDifferenceAtOnce()
    {
        var ledger = CreateSut(tpm: 1000);
        var lease = ledger.TryAcquire("t", 1, Ttl, tokens: 900)!;
        var waiter = ledger.Enqueue("t", 1, Ttl, tokens: 500);

        var changed = ledger.ReportUsage(new UsageReport("t", lease.LeaseId, UsageOutcome.Completed, Tokens: 300));

        Assert.True(changed);
        Assert.True(waiter.Task.IsCompletedSuccessfully);
        Assert.Equal(200, ledger.Tokens.Available);
    }

    [Fact]
    public void ReportUsage_RealUsageAboveTheEstimate_ChargesTheDifference()
    {
        var ledger = CreateSut(tpm: 1000);
        var lease = ledger.TryAcquire("t", 1, Ttl, tokens: 100)!;

        ledger.ReportUsage(new UsageReport("t", lease.LeaseId, UsageOutcome.Completed, Tokens: 700));

        Assert.Equal(300, ledger.Tokens.Available);
        Assert.Null(ledger.TryAcquire("t", 1, Ttl, tokens: 301));
    }

    [Fact]
    public void ReportUsage_SameReportTwice_ChargesOnce()
    {
        var ledger = CreateSut(tpm: 1000);
        var lease = ledger.TryAcquire("t", 1, Ttl, tokens: 100)!;
        var report = new UsageReport("t", lease.LeaseId, UsageOutcome.Completed, Tokens: 250);

        ledger.ReportUsage(report);
        var changedAgain = ledger.ReportUsage(report);

        Assert.False(changedAgain);
        Assert.Equal(750, ledger.Tokens.Available);
    }

    [Fact]
    public void ReportUsage_AfterRelease_StillSettlesTheCharge()
    {
        var ledger = CreateSut(tpm: 1000);
        var lease = ledger.TryAcquire("t", 1, Ttl, tokens: 100)!;
        ledger.Release(lease.LeaseId);

        ledger.ReportUsage(new UsageReport("t", lease.LeaseId, UsageOutcome.Completed, Tokens: 400));

        Assert.Equal(600, ledger.Tokens.Available);
    }

    [Fact]
    public void ReportUsage_LeaseFromAPredecessor_ChargesTheRealUsageOnTopOfTheRestoredWindow()
    {
        var ledger = CreateSut(tpm: 1000);
        var lease = ledger.TryAcquire("t", 1, Ttl, tokens: 300)!;
        var history = ledger.Tokens.Snapshot();
        var successor = CreateSut(tpm: 1000);
        successor.RestoreUpstreamState(history, null, null);

        successor.ReportUsage(new UsageReport("t", lease.LeaseId, UsageOutcome.Completed, Tokens: 200));

        // The estimate stays counted (the successor cannot tell it apart): over-counting only delays grants.
        Assert.Equal(500, successor.Tokens.Available);
    }

    [Fact]
    public void RestoreUpstreamState_TokenHistory_ReactivationNeverPassesTheBudgetWithinAMinute()
    {
        var ledger = CreateSut(tpm: 1000);
        Assert.NotNull(ledger.TryAcquire("t", 1, Ttl, tokens: 1000));
        var history = ledger.Tokens.Snapshot();
        _time.Advance(TimeSpan.FromSeconds(30));

        var successor = CreateSut(tpm: 1000);
        successor.RestoreUpstreamState(history, null, null);

        Assert.Null(successor.TryAcquire("t", 1, Ttl, tokens: 1));
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.NotNull(successor.TryAcquire("t", 1, Ttl, tokens: 1));
    }

    [Fact]
    public void CouldEverCharge_EstimateAboveTheBudget_IsFalse()
    {
        var ledger = CreateSut(tpm: 1000);

        Assert.True(ledger.CouldEverCharge(1000));
        Assert.False(ledger.CouldEverCharge(1001));
    }

    [Fact]
    public void SetTokenRate_BelowAQueuedEstimate_FailsThatWaiterOnly()
    {
        var ledger = CreateSut(limit: 1, tpm: 10_000);
        var held = ledger.TryAcquire("x", 1, Ttl, tokens: 10)!;
        var heavy = ledger.Enqueue("heavy", 1, Ttl, tokens: 5000);
        var light = ledger.Enqueue("light", 1, Ttl, tokens: 10);

        ledger.SetTokenRate(1000, 1);
        ledger.Release(held.LeaseId);

        Assert.IsType<FloodgateValidationException>(heavy.Task.Exception?.InnerException);
        Assert.True(light.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void TryAcquire_NoTokenBudget_TokensAreNotCounted()
    {
        var ledger = CreateSut(tpm: null);

        Assert.NotNull(ledger.TryAcquire("t", 1, Ttl, tokens: 1_000_000));
        Assert.Null(ledger.Tokens.Available);
    }

    [Fact]
    public void Grants_OverThreeSimulatedMinutes_NoWindowEverHoldsMoreThanTheBudgetOfRealUsage()
    {
        // Seeded schedule: estimates and real usage differ both ways; every call settles before it releases.
        var random = new Random(9);
        var ledger = CreateSut(limit: 5, tpm: 2000);
        var charged = new List<(DateTimeOffset At, int Tokens)>();
        var pending = new List<(PermitLedger.Waiter Waiter, int Real)>();
        var start = _time.GetUtcNow();
        while (_time.GetUtcNow() - start < TimeSpan.FromMinutes(3))
        {
            var estimate = random.Next(50, 400);
            pending.Add((ledger.Enqueue("t", 1, Ttl, tokens: estimate), random.Next(10, estimate + 100)));
            foreach (var (waiter, real) in pending.Where(p => p.Waiter.Task.IsCompletedSuccessfully).ToList())
            {
                var lease = waiter.Task.Result;
                ledger.ReportUsage(new UsageReport("t", lease.LeaseId, UsageOutcome.Completed, Tokens: real));
                ledger.Release(lease.LeaseId);
                charged.Add((lease.ExpiresAt - Ttl, real));
                pending.RemoveAll(p => ReferenceEquals(p.Waiter, waiter));
            }

            _time.Advance(TimeSpan.FromMilliseconds(random.Next(100, 2000)));
            ledger.Pump();
        }

        Assert.True(charged.Count > 20);
        foreach (var (at, _) in charged)
        {
            // Only what calls in flight used beyond their estimates (5 × at most 100) can pass the budget.
            var inWindow = charged.Where(c => c.At > at - RateWindow.Length && c.At <= at).Sum(c => c.Tokens);
            Assert.True(inWindow <= 2000 + (5 * 100), $"{inWindow} tokens in the minute up to {at}");
        }
    }
}
