using Floodgate.Grains.Limiting;
using Floodgate.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

/// <summary>The cluster-wide backoff on upstream pushback, in the ledger, with fake time.</summary>
public sealed class UpstreamBackoffTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private PermitLedger CreateSut(int limit)
    {
        var ledger = new PermitLedger("test", _time);
        ledger.SetMaxConcurrency(limit);
        ledger.Backoff.IncreaseAfterSuccesses = 3;
        return ledger;
    }

    private static UsageReport RateLimited(Lease lease, TimeSpan? retryAfter = null) =>
        new(lease.Holder, lease.LeaseId, UsageOutcome.UpstreamRateLimited, Signal: new UpstreamSignal(RetryAfter: retryAfter));

    private static UsageReport Completed(Lease lease) => new(lease.Holder, lease.LeaseId, UsageOutcome.Completed);

    [Fact]
    public void ReportUsage_UpstreamRateLimitedWithRetryAfter_NoGrantUntilItPassesThenGrantsResume()
    {
        var ledger = CreateSut(10);
        var lease = ledger.TryAcquire("t", 1, Ttl)!;

        ledger.ReportUsage(RateLimited(lease, TimeSpan.FromSeconds(5)));
        ledger.Release(lease.LeaseId);
        var waiter = ledger.Enqueue("t", 1, Ttl);

        Assert.Null(ledger.TryAcquire("other", 1, Ttl));
        Assert.False(waiter.Task.IsCompleted);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(5), ledger.WakeAt);
        _time.Advance(TimeSpan.FromSeconds(5));
        ledger.Pump();
        Assert.True(waiter.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void ReportUsage_RetryAfterAboveTheCap_PausesOnlyForTheCap()
    {
        var ledger = CreateSut(10);
        ledger.Backoff.MaxPause = TimeSpan.FromSeconds(30);
        var lease = ledger.TryAcquire("t", 1, Ttl)!;

        ledger.ReportUsage(RateLimited(lease, TimeSpan.FromHours(5)));

        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), ledger.Backoff.PausedUntil);
    }

    [Fact]
    public void ReportUsage_SeveralRateLimitsOfOneGeneration_HalveTheInFlightOnce()
    {
        var ledger = CreateSut(60);
        var leases = Enumerable.Range(0, 8).Select(_ => ledger.TryAcquire("t", 1, Ttl)!).ToList();

        foreach (var lease in leases.Take(4))
        {
            ledger.ReportUsage(RateLimited(lease));
        }

        // 8 were in flight when the upstream pushed back: the cluster goes on with 4, not 60 / 2 nor 8 / 16.
        Assert.Equal(4, ledger.EffectiveMaxConcurrency);
        Assert.Equal(60, ledger.MaxConcurrency);
    }

    [Fact]
    public void ReportUsage_RateLimitOfACallGrantedAfterTheHalving_HalvesAgain()
    {
        var ledger = CreateSut(60);
        var old = Enumerable.Range(0, 8).Select(_ => ledger.TryAcquire("t", 1, Ttl)!).ToList();
        ledger.ReportUsage(RateLimited(old[0]));
        _time.Advance(TimeSpan.FromSeconds(2));
        old.ForEach(l => ledger.Release(l.LeaseId));
        var fresh = Enumerable.Range(0, 4).Select(_ => ledger.TryAcquire("t", 1, Ttl)!).ToList();

        ledger.ReportUsage(RateLimited(fresh[0]));

        Assert.Equal(2, ledger.EffectiveMaxConcurrency);
    }

    [Fact]
    public void ReportUsage_SuccessesAfterAHalving_ProbeBackUpOneStepAtATimeToTheLimit()
    {
        var ledger = CreateSut(4);
        var leases = Enumerable.Range(0, 4).Select(_ => ledger.TryAcquire("t", 1, Ttl)!).ToList();
        ledger.ReportUsage(RateLimited(leases[0]));
        Assert.Equal(2, ledger.EffectiveMaxConcurrency);

        var seen = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            ledger.ReportUsage(Completed(leases[1]));
            seen.Add(ledger.EffectiveMaxConcurrency);
        }

        Assert.Equal([2, 2, 3, 3, 3, 4], seen);
        Assert.Null(ledger.Backoff.Limit);
    }

    [Fact]
    public void ReportUsage_RemainingRequestsZero_PausesUntilTheProviderWindowResets()
    {
        var ledger = CreateSut(10);
        var lease = ledger.TryAcquire("t", 1, Ttl)!;

        ledger.ReportUsage(new UsageReport("t", lease.LeaseId, UsageOutcome.Completed,
            Signal: new UpstreamSignal(RemainingRequests: 0, RequestsResetIn: TimeSpan.FromSeconds(3), RemainingTokens: 500, TokensResetIn: TimeSpan.FromSeconds(9))));

        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(3), ledger.Backoff.PausedUntil);
        Assert.Equal(10, ledger.EffectiveMaxConcurrency);
    }

    [Fact]
    public void ReportUsage_RejectedByFloodgate_DoesNotBackOff()
    {
        var ledger = CreateSut(10);

        var changed = ledger.ReportUsage(new UsageReport("t", null, UsageOutcome.Rejected));

        Assert.False(changed);
        Assert.False(ledger.Backoff.IsPaused);
    }

    [Fact]
    public void RestoreUpstreamState_BackoffOfAPredecessor_IsKept()
    {
        var ledger = CreateSut(10);
        ledger.RestoreUpstreamState([], 3, _time.GetUtcNow() + TimeSpan.FromSeconds(4));

        Assert.Equal(3, ledger.EffectiveMaxConcurrency);
        Assert.Null(ledger.TryAcquire("t", 1, Ttl));
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.NotNull(ledger.TryAcquire("t", 1, Ttl));
    }

    [Fact]
    public void ReportUsage_ByHolder_TallyIsInTheStatus()
    {
        var ledger = CreateSut(10);
        var a = ledger.TryAcquire("team-a", 1, Ttl)!;
        var b = ledger.TryAcquire("team-b", 1, Ttl)!;

        ledger.ReportUsage(new UsageReport("team-a", a.LeaseId, UsageOutcome.Completed, Tokens: 120));
        ledger.ReportUsage(new UsageReport("team-a", null, UsageOutcome.Rejected));
        ledger.ReportUsage(new UsageReport("team-b", b.LeaseId, UsageOutcome.UpstreamRateLimited, Tokens: 0));

        var usage = ledger.Snapshot(LimitSource.Default, 1).Usage;
        Assert.Equal(new HolderUsage("team-a", 1, 120, 1, 0), usage.Single(u => u.Holder == "team-a"));
        Assert.Equal(new HolderUsage("team-b", 1, 0, 0, 1), usage.Single(u => u.Holder == "team-b"));
    }
}
