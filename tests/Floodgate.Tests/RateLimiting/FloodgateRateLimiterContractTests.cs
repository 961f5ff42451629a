using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Floodgate.Client.RateLimiting;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.RateLimiting;

/// <summary>
/// The Floodgate adapter over a real global limiter passes the same contract suite as <see cref="ConcurrencyLimiter"/>,
/// plus what only a distributed limiter can get wrong: grants in transit to callers that gave up, and other clients.
/// </summary>
[Collection(RateLimiterClusterCollection.Name)]
public sealed class FloodgateRateLimiterContractTests(RateLimiterCluster cluster) : RateLimiterContractTests
{
    private readonly ConditionalWeakTable<RateLimiter, string> _names = [];

    // The contract cases are about answers, not speed: AttemptAcquire gets time enough for a loaded 2-core CI machine.
    protected override Task<RateLimiter> CreateAsync(int permitLimit, int queueLimit) =>
        CreateAsync(permitLimit, new FloodgateRateLimiterOptions { QueueLimit = queueLimit, AttemptTimeout = TimeSpan.FromSeconds(20) });

    protected override Task QueuedAsync(RateLimiter limiter, int waiters) =>
        Eventually.TrueAsync(async () => (await StatusAsync(limiter)).Waiting == waiters);

    protected override Task SettledAsync(RateLimiter limiter) =>
        Eventually.TrueAsync(async () => limiter.GetStatistics()!.CurrentAvailablePermits == (await StatusAsync(limiter)).Available);

    [Fact]
    public async Task AcquireAsync_CancelledWhileItsGrantIsInTransit_LimiterInUseReturnsToZero()
    {
        var limiter = await CreateAsync(1, new FloodgateRateLimiterOptions());
        var name = NameOf(limiter);
        var held = await limiter.AcquireAsync(1);
        using var cancellation = new CancellationTokenSource();
        using var hold = GrantHold.Arm(name);
        var waiting = limiter.AcquireAsync(1, cancellation.Token);
        await QueuedAsync(limiter, 1);

        held.Dispose();
        await hold.GrantHeld.WaitAsync(HangBound);
        await cancellation.CancelAsync();
        await Assert.ThrowsAsync<TaskCanceledException>(() => waiting.AsTask());

        await Eventually.TrueAsync(async () => (await StatusAsync(limiter)).InUse == 0);
    }

    [Fact]
    public async Task AttemptAcquire_NoAnswerWithinAttemptTimeout_FailsAndLeavesNothingHeld()
    {
        var limiter = await CreateAsync(1, new FloodgateRateLimiterOptions { AttemptTimeout = TimeSpan.FromMilliseconds(200) });
        using var hold = GrantHold.Arm(NameOf(limiter));

        using var lease = limiter.AttemptAcquire(1);

        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("did not answer", reason);
        hold.Dispose();
        await Eventually.TrueAsync(async () => (await StatusAsync(limiter)).InUse == 0);
    }

    [Fact]
    public async Task DisposeAsync_RequestsWaiting_LeavesNoWaiterAtTheLimiter()
    {
        var limiter = await CreateAsync(1, new FloodgateRateLimiterOptions());
        var status = StatusSource(limiter);
        using var held = await limiter.AcquireAsync(1);
        var waiting = Enumerable.Range(0, 3).Select(_ => limiter.AcquireAsync(1).AsTask()).ToList();
        await QueuedAsync(limiter, 3);

        await limiter.DisposeAsync();

        Assert.All(await Task.WhenAll(waiting), lease => Assert.False(lease.IsAcquired));
        Assert.Equal(0, (await status()).Waiting);
        Assert.Equal(1, (await status()).InUse);
    }

    [Fact]
    public async Task Lease_DisposedAfterTheLimiter_StillReturnsItsPermits()
    {
        var limiter = await CreateAsync(1, new FloodgateRateLimiterOptions());
        var status = StatusSource(limiter);
        var lease = await limiter.AcquireAsync(1);

        await limiter.DisposeAsync();
        lease.Dispose();

        await Eventually.TrueAsync(async () => (await status()).InUse == 0);
    }

    [Fact]
    public async Task GetStatistics_AnotherClientTakesPermits_ViewCatchesUp()
    {
        var limiter = await CreateAsync(5, new FloodgateRateLimiterOptions());
        await SettledAsync(limiter);
        Assert.Equal(5, limiter.GetStatistics()!.CurrentAvailablePermits);

        var other = await cluster.Limiter(NameOf(limiter)).AcquireAsync(new AcquireRequest("someone-else", 3, TimeSpan.Zero));
        Assert.True(other.Granted);

        await Eventually.TrueAsync(() => Task.FromResult(limiter.GetStatistics()!.CurrentAvailablePermits == 2));
    }

    private async Task<RateLimiter> CreateAsync(int permitLimit, FloodgateRateLimiterOptions options)
    {
        var name = Unique.Name("contract");
        await cluster.Client.SetLimitsAsync(name, new LimiterLimits(permitLimit));
        options.StatisticsRefreshInterval = TimeSpan.Zero;
        var limiter = cluster.Client.GetRateLimiter(name, options);
        _names.Add(limiter, name);
        return limiter;
    }

    private string NameOf(RateLimiter limiter) => _names.TryGetValue(limiter, out var name) ? name : throw new InvalidOperationException("Not created here.");

    private Task<LimiterStatus> StatusAsync(RateLimiter limiter) =>
        cluster.Limiter(NameOf(limiter)).GetStatusAsync();

    private Func<Task<LimiterStatus>> StatusSource(RateLimiter limiter)
    {
        var grain = cluster.Limiter(NameOf(limiter));
        return grain.GetStatusAsync;
    }
}
