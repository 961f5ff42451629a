using Floodgate.Client.Leases;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Tests.RateLimiting;

namespace Floodgate.Tests.Limiting;

/// <summary>
/// <see cref="LimiterLeaseSet"/> under a caller's own <see cref="LeaseSetPolicy"/> (as item grains use it): its acquire
/// retry, its confirm retry, the TTL the leases need, and its "not granted" and "lost" exceptions.
/// </summary>
[Collection(RateLimiterClusterCollection.Name)]
public sealed class LimiterLeaseSetPolicyTests(RateLimiterCluster cluster)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(600, 2)]
    public async Task AcquireAsync_RequiredTtl_ConfirmsEarlierLeasesAndTheLastOnlyWhenItHasLessLeft(int requiredSeconds, int expectedConfirms)
    {
        var (first, second) = await CreateLimitersAsync();
        var confirms = 0;
        var policy = new LeaseSetPolicy
        {
            Acquire = new FailoverAcquire(TimeProvider.System, TimeSpan.FromSeconds(5)),
            RequiredTtl = TimeSpan.FromSeconds(requiredSeconds),
            ConfirmRetry = (confirm, ct) =>
            {
                Interlocked.Increment(ref confirms);
                return confirm(ct);
            },
        };

        await using (var set = await AcquireAsync([second, first], policy))
        {
            Assert.Equal([first, second], set.Leases.Select(l => l.Lease.Limiter));
            Assert.All(set.Leases, l => Assert.True(l.IsHeld));
        }

        Assert.Equal(expectedConfirms, confirms);
        await AssertNothingHeldAsync(first, second);
    }

    [Fact]
    public async Task AcquireAsync_LaterLimiterGrantsNothing_ThrowsThePolicysNotGrantedAndReleasesTheEarlierLease()
    {
        var (first, second) = await CreateLimitersAsync();
        await using var blocker = await cluster.Client.AcquireAsync(second);
        var policy = new LeaseSetPolicy
        {
            Acquire = new FailoverAcquire(TimeProvider.System, TimeSpan.FromSeconds(5)),
            NotGranted = (limiter, result) => new NotGrantedException(limiter, result.Failure),
        };

        var ex = await Assert.ThrowsAsync<NotGrantedException>(() => AcquireAsync([first, second], policy, TimeSpan.Zero));

        Assert.Equal((second, AcquireFailure.Timeout), (ex.Limiter, ex.Failure));
        Assert.Equal(0, (await cluster.Limiter(first).GetStatusAsync()).InUse);
    }

    [Fact]
    public async Task AcquireAsync_EarlierLeaseGoneAtItsLimiterBeforeTheCall_ThrowsThePolicysLostAndReleasesAll()
    {
        var (first, second) = await CreateLimitersAsync();
        var granted = new List<Lease>();

        // The caller's own acquire retry (one try here) sees every grant; before the confirm, the first lease is released
        // behind the set's back, so its limiter answers the confirm with "gone".
        var policy = new LeaseSetPolicy
        {
            Acquire = new FailoverAcquire(TimeProvider.System, async (_, attempt, _, ct) =>
            {
                var answer = await attempt(ct);
                granted.Add(answer.Lease!);
                return answer;
            }),
            ConfirmRetry = async (confirm, ct) =>
            {
                await cluster.Limiter(first).ReleaseAsync(granted[0].LeaseId);
                return await confirm(ct);
            },
            Lost = limiter => new LostException(limiter),
        };

        var ex = await Assert.ThrowsAsync<LostException>(() => AcquireAsync([first, second], policy));

        Assert.Equal(first, ex.Limiter);
        Assert.Equal([first, second], granted.Select(l => l.Limiter));
        await AssertNothingHeldAsync(first, second);
    }

    private Task<LimiterLeaseSet> AcquireAsync(IReadOnlyList<string> limiters, LeaseSetPolicy policy, TimeSpan? wait = null) =>
        LimiterLeaseSet.AcquireAsync(
            cluster.Cluster.Client,
            new LeaseSetRequest(limiters) { WaitTimeout = wait ?? TimeSpan.FromSeconds(10) },
            "lease-set-tests",
            Ttl,
            policy,
            TimeProvider.System,
            CancellationToken.None);

    private async Task<(string First, string Second)> CreateLimitersAsync()
    {
        // Ordinal order decides which limiter is acquired first.
        var prefix = Unique.Name("set");
        var (first, second) = ($"{prefix}-a", $"{prefix}-b");
        await cluster.Client.SetLimitsAsync(first, new LimiterLimits(1));
        await cluster.Client.SetLimitsAsync(second, new LimiterLimits(1));
        return (first, second);
    }

    private async Task AssertNothingHeldAsync(params string[] limiters)
    {
        foreach (var limiter in limiters)
        {
            Assert.Equal(0, (await cluster.Limiter(limiter).GetStatusAsync()).InUse);
        }
    }

    private sealed class NotGrantedException(string limiter, AcquireFailure failure) : Exception(limiter)
    {
        public string Limiter { get; } = limiter;

        public AcquireFailure Failure { get; } = failure;
    }

    private sealed class LostException(string limiter) : Exception(limiter)
    {
        public string Limiter { get; } = limiter;
    }
}
