using Floodgate.Client.Leases;
using Floodgate.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

/// <summary>The SDK lease keeps itself alive, and says so honestly when it cannot.</summary>
public sealed class LimiterLeaseTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time;
    private readonly ScriptedLimiter _limiter;

    public LimiterLeaseTests()
    {
        _time = new FakeTimeProvider();
        _limiter = new ScriptedLimiter(_time);
    }

    private LimiterLease CreateSut() =>
        new(_limiter, new Lease("lease-1", "acct", "me", 1, _time.GetUtcNow() + Ttl, Ttl), _time);

    [Fact]
    public async Task Renewal_LimiterUnreachableUntilExpiry_ReportsTheLeaseLost()
    {
        _limiter.Unreachable = true;
        await using var lease = CreateSut();

        await AdvanceAsync(Ttl - TimeSpan.FromSeconds(1));
        Assert.True(lease.IsHeld);
        await AdvanceAsync(TimeSpan.FromSeconds(2));

        Assert.False(lease.IsHeld);
        Assert.True(lease.LeaseLost.IsCancellationRequested);
    }

    [Fact]
    public async Task DisposeAsync_NormalRelease_ThrowsNoExceptionAnywhere()
    {
        // Counted only on this test's own flow (the lease's renewal loop inherits it), so parallel tests do not interfere.
        var thrown = new List<Exception>();
        var mine = new AsyncLocal<bool> { Value = true };
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (mine.Value)
            {
                lock (thrown)
                {
                    thrown.Add(e.Exception);
                }
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            var lease = CreateSut();
            await AdvanceAsync(Ttl / 2);
            await lease.DisposeAsync();
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Empty(thrown);
        Assert.Equal(1, _limiter.Releases);
    }

    [Fact]
    public async Task Renewal_OneFailureThenSuccess_KeepsTheLease()
    {
        await using var lease = CreateSut();
        _limiter.Unreachable = true;
        await AdvanceAsync(Ttl / 3);
        _limiter.Unreachable = false;

        await AdvanceAsync(Ttl / LimiterLease.RetryFraction);
        await AdvanceAsync(Ttl);

        Assert.True(lease.IsHeld);
        Assert.True(_limiter.Renewals >= 2);
    }

    [Fact]
    public async Task Renewal_LimiterSaysGone_ReportsTheLeaseLostAtOnce()
    {
        await using var lease = CreateSut();
        _limiter.Gone = true;

        await AdvanceAsync(Ttl / 3);

        Assert.False(lease.IsHeld);
        Assert.True(lease.LeaseLost.IsCancellationRequested);
    }

    [Fact]
    public async Task ConfirmAsync_LimiterSaysGone_ReturnsFalseAndReportsLost()
    {
        await using var lease = CreateSut();
        _limiter.Gone = true;

        Assert.False(await lease.ConfirmAsync());
        Assert.False(lease.IsHeld);
    }

    [Fact]
    public async Task DisposeAsync_LimiterFailingOver_RetriesTheReleaseUntilItLands()
    {
        var lease = CreateSut();
        _limiter.FailingReleases = 3;

        var disposing = lease.DisposeAsync().AsTask();
        for (var step = 0; step < 200 && !disposing.IsCompleted; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5);
        }

        await disposing;
        Assert.Equal(1, _limiter.Releases);
    }

    [Fact]
    public async Task DisposeAsync_Twice_ReleasesOnce()
    {
        var lease = CreateSut();

        await lease.DisposeAsync();
        await lease.DisposeAsync();

        Assert.Equal(1, _limiter.Releases);
    }

    /// <summary>Moves fake time in small steps so the renewal loop's timers and continuations run in between.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        var step = TimeSpan.FromMilliseconds(500);
        for (var left = by; left > TimeSpan.Zero; left -= step)
        {
            _time.Advance(left < step ? left : step);
            await Task.Delay(5);
        }
    }

    /// <summary>A limiter whose answers the test scripts: unreachable, lease gone, or renewed by the TTL.</summary>
    private sealed class ScriptedLimiter(TimeProvider time) : IGlobalLimiterGrain
    {
        public volatile bool Unreachable;
        public volatile bool Gone;
        public int Renewals;
        public int Releases;
        public int FailingReleases;

        public Task<Lease?> RenewAsync(RenewRequest request)
        {
            if (Unreachable)
            {
                return Task.FromException<Lease?>(new TimeoutException("unreachable"));
            }

            Interlocked.Increment(ref Renewals);
            return Task.FromResult(Gone ? null : new Lease(request.LeaseId, "acct", "me", 1, time.GetUtcNow() + Ttl, Ttl));
        }

        public Task<bool> ReleaseAsync(string leaseId)
        {
            if (Interlocked.Decrement(ref FailingReleases) >= 0)
            {
                return Task.FromException<bool>(new Orleans.Runtime.SiloUnavailableException("the limiter's silo died"));
            }

            Interlocked.Increment(ref Releases);
            return Task.FromResult(true);
        }

        public Task ReleaseOneWayAsync(string leaseId) => throw new NotSupportedException();

        public Task ReleaseManyAsync(IReadOnlyList<string> leaseIds) => throw new NotSupportedException();

        public Task<LimiterConfiguration> ConfigureAsync(int maxConcurrency) => throw new NotSupportedException();

        public Task<AcquireResult> AcquireAsync(AcquireRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> CancelAcquireAsync(string requestId) => throw new NotSupportedException();

        public Task<LimiterStatus> SetLimitsAsync(LimiterLimits limits) => throw new NotSupportedException();

        public Task ReportUsageAsync(UsageReport report) => throw new NotSupportedException();

        public Task<LimiterStatus> GetStatusAsync() => throw new NotSupportedException();
    }
}
