using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Limiting;

/// <summary>
/// <see cref="IGlobalLimiterGrain.ReleaseManyAsync"/>, the call a silo's items release their leases with in groups:
/// it returns every named permit, skips leases already gone, and refuses bad input whole, releasing nothing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GroupedReleaseTests(ClusterFixture fixture)
{
    private static AcquireRequest Request(string holder) => new(holder, 1, TimeSpan.Zero);

    private async Task<(string Name, IGlobalLimiterGrain Grain, List<string> LeaseIds)> HoldAsync(int leases)
    {
        var name = Unique.Name("grouped");
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(leases));
        var ids = new List<string>();
        for (var i = 0; i < leases; i++)
        {
            var result = await fixture.Client.TryAcquireLeaseAsync(name, Request($"holder-{i % 2}"));
            ids.Add(result.Lease!.LeaseId);
        }

        return (name, fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name), ids);
    }

    [Fact]
    public async Task ReleaseMany_SomeLeasesAndOnesAlreadyGone_ReturnsExactlyTheNamedPermits()
    {
        var (name, limiter, ids) = await HoldAsync(4);
        await fixture.Client.ReleaseLeaseAsync(name, ids[0]);

        await limiter.ReleaseManyAsync([ids[0], ids[1], ids[2], "never-granted"]);

        var status = await fixture.Client.GetLimiterStatusAsync(name);
        Assert.Equal(1, status.InUse);
        var last = await fixture.Client.TryAcquireLeaseAsync(name, Request("late"));
        Assert.True(last.Granted, last.Reason);
    }

    [Fact]
    public async Task ReleaseMany_AnEmptyList_ChangesNothing()
    {
        var (name, limiter, _) = await HoldAsync(2);

        await limiter.ReleaseManyAsync([]);

        Assert.Equal(2, (await fixture.Client.GetLimiterStatusAsync(name)).InUse);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task ReleaseMany_AnInvalidIdAmongValidOnes_IsRefusedAndReleasesNothing(string? bad)
    {
        var (name, limiter, ids) = await HoldAsync(2);

        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => limiter.ReleaseManyAsync([ids[0], bad!, ids[1]]));

        Assert.Contains("lease id", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, (await fixture.Client.GetLimiterStatusAsync(name)).InUse);
    }

    [Fact]
    public async Task ReleaseMany_MoreIdsThanAllowedOrNoList_IsRefusedAndReleasesNothing()
    {
        var (name, limiter, ids) = await HoldAsync(1);
        var tooMany = Enumerable.Repeat(ids[0], LeaseIds.MaxPerRelease + 1).ToList();

        await Assert.ThrowsAsync<FloodgateValidationException>(() => limiter.ReleaseManyAsync(tooMany));
        await Assert.ThrowsAsync<FloodgateValidationException>(() => limiter.ReleaseManyAsync(null!));

        Assert.Equal(1, (await fixture.Client.GetLimiterStatusAsync(name)).InUse);
    }
}
