using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Failover;

/// <summary>
/// The limiter keeps its promise through lost activations, reactivations, slow storage and lost replies: never more
/// permits out than the limit, never more calls per minute than the budget, no stall, no orphaned grant.
/// </summary>
public sealed class LimiterFaultTests(DurableClusterFixture fixture) : IClassFixture<DurableClusterFixture>
{
    private static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(10);

    private IGlobalLimiterGrain Limiter(string name) => fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);

    [Fact]
    public async Task UncleanLoss_LeasesOut_SuccessorGrantsAtOnceAndCountsThem()
    {
        var name = Unique.Name("unclean");
        var limiter = Limiter(name);
        await limiter.SetLimitsAsync(new LimiterLimits(2));
        var kept = (await limiter.AcquireAsync(new AcquireRequest("survivor", 1, TimeSpan.Zero))).Lease!;

        await fixture.LoseActivationAsync(name);

        // No recovery pause: the free permit is granted at once, the persisted lease still counts.
        var next = await limiter.AcquireAsync(new AcquireRequest("newcomer", 1, TimeSpan.Zero));
        var over = await limiter.AcquireAsync(new AcquireRequest("newcomer", 1, TimeSpan.Zero));
        Assert.True(next.Granted, next.Reason);
        Assert.Equal(AcquireFailure.Timeout, over.Failure);
        var status = await limiter.GetStatusAsync();
        Assert.Equal((2, 1L), (status.InUse, status.Restored));
        Assert.NotNull(await limiter.RenewAsync(RenewRequest.For(kept)));
    }

    [Fact]
    public async Task TwoUncleanLosses_LongLeaseRenewedInBetween_StillCountedAfterTheSecond()
    {
        var name = Unique.Name("twice");
        var limiter = Limiter(name);
        await limiter.SetLimitsAsync(new LimiterLimits(2));
        var kept = (await limiter.AcquireAsync(new AcquireRequest("survivor", 1, TimeSpan.Zero, LongTtl))).Lease!;

        await fixture.LoseActivationAsync(name);
        Assert.NotNull(await limiter.RenewAsync(RenewRequest.For(kept)));
        await fixture.LoseActivationAsync(name);

        Assert.True((await limiter.AcquireAsync(new AcquireRequest("newcomer", 1, TimeSpan.Zero))).Granted);
        Assert.False((await limiter.AcquireAsync(new AcquireRequest("newcomer", 1, TimeSpan.Zero))).Granted);
        Assert.Equal(2, (await limiter.GetStatusAsync()).InUse);
    }

    [Fact]
    public async Task CleanReactivation_RateBudgetUsed_SuccessorGrantsNothingMoreThatMinute()
    {
        var name = Unique.Name("rate");
        var limiter = Limiter(name);
        await limiter.SetLimitsAsync(new LimiterLimits(10, RequestsPerMinute: 10, RateSafetyFactor: 1));
        for (var i = 0; i < 10; i++)
        {
            var lease = (await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero))).Lease!;
            await limiter.ReleaseAsync(lease.LeaseId);
        }

        await fixture.Cluster.DeactivateAsync(limiter);
        await fixture.Cluster.WaitForDeactivationAsync(limiter);

        var after = await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero));
        Assert.Equal(AcquireFailure.Timeout, after.Failure);
        Assert.Equal(0, (await limiter.GetStatusAsync()).RateAvailable);
    }

    [Fact]
    public async Task UncleanLoss_RateBudgetUsed_SuccessorGrantsNothingMoreThatMinute()
    {
        var name = Unique.Name("rate-crash");
        var limiter = Limiter(name);
        await limiter.SetLimitsAsync(new LimiterLimits(10, RequestsPerMinute: 5, RateSafetyFactor: 1));
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero))).Granted);
        }

        await fixture.LoseActivationAsync(name);

        Assert.Equal(AcquireFailure.Timeout, (await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero))).Failure);
    }

    [Fact]
    public async Task WeightedGrant_TakesItsWeightFromTheRateBudget()
    {
        var limiter = Limiter(Unique.Name("weighted"));
        await limiter.SetLimitsAsync(new LimiterLimits(10, RequestsPerMinute: 4, RateSafetyFactor: 1));

        var three = await limiter.AcquireAsync(new AcquireRequest("h", 3, TimeSpan.Zero));
        var two = await limiter.AcquireAsync(new AcquireRequest("h", 2, TimeSpan.Zero));

        Assert.True(three.Granted);
        Assert.Equal(AcquireFailure.Timeout, two.Failure);
        Assert.Equal(1, (await limiter.GetStatusAsync()).RateAvailable);
        await Assert.ThrowsAsync<FloodgateValidationException>(() => limiter.AcquireAsync(new AcquireRequest("h", 5, TimeSpan.Zero)));
    }

    [Fact]
    public async Task LimitCutWhileAWriteRuns_HeavyWaiterFailsAndLightWaiterIsServed()
    {
        var name = Unique.Name("cut");
        var limiter = Limiter(name);
        await limiter.SetLimitsAsync(new LimiterLimits(5));
        var held = (await limiter.AcquireAsync(new AcquireRequest("h", 5, TimeSpan.Zero))).Lease!;
        fixture.Faults.SlowWrites(name, TimeSpan.FromMilliseconds(300));

        var heavy = limiter.AcquireAsync(new AcquireRequest("heavy", 4, TimeSpan.FromSeconds(20), LongTtl));
        await limiter.SetLimitsAsync(new LimiterLimits(3));
        var light = limiter.AcquireAsync(new AcquireRequest("light", 1, TimeSpan.FromSeconds(5)));
        await limiter.ReleaseAsync(held.LeaseId);

        await Assert.ThrowsAsync<FloodgateValidationException>(() => heavy);
        Assert.True((await light).Granted);
    }

    [Fact]
    public async Task AcquireWithRequestId_ReplyLostToACancelledCaller_CancelByRequestIdReleasesTheGrant()
    {
        var limiter = Limiter(FaultInjectionFilter.SlowReplyPrefix + Unique.Name("orphan"));
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        var requestId = AcquireRequest.NewRequestId();
        using var giveUp = new CancellationTokenSource(FaultInjectionFilter.ReplyDelay / 2);

        // The grant leaves the grain, then the caller gives up before it arrives: nobody holds it.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => limiter.AcquireAsync(new AcquireRequest("caller", 1, TimeSpan.FromSeconds(5), null, AcquirePriority.Normal, requestId), giveUp.Token));
        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).InUse == 1);

        Assert.True(await limiter.CancelAcquireAsync(requestId));
        Assert.Equal(0, (await limiter.GetStatusAsync()).InUse);
        var late = await limiter.AcquireAsync(new AcquireRequest("caller", 1, TimeSpan.Zero, null, AcquirePriority.Normal, requestId));
        Assert.Equal(AcquireFailure.Cancelled, late.Failure);
    }

    [Fact]
    public async Task AcquireWithRequestId_Repeated_ReturnsTheSameLease()
    {
        var limiter = Limiter(Unique.Name("repeat"));
        await limiter.SetLimitsAsync(new LimiterLimits(2));
        var request = new AcquireRequest("caller", 1, TimeSpan.Zero, null, AcquirePriority.Normal, AcquireRequest.NewRequestId());

        var first = await limiter.AcquireAsync(request);
        var again = await limiter.AcquireAsync(request);

        Assert.Equal(first.Lease!.LeaseId, again.Lease!.LeaseId);
        Assert.Equal(1, (await limiter.GetStatusAsync()).InUse);
    }

    [Fact]
    public async Task UncleanLoss_HolderReleases_SuccessorFreesThePermitAtOnce()
    {
        var name = Unique.Name("moved");
        var limiter = Limiter(name);
        await limiter.SetLimitsAsync(new LimiterLimits(2));
        var lease = (await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero))).Lease!;

        await fixture.LoseActivationAsync(name);

        Assert.True(await limiter.ReleaseAsync(lease.LeaseId));
        Assert.Equal(0, (await limiter.GetStatusAsync()).InUse);
    }
}
