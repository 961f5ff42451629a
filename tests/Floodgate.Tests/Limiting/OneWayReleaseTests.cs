using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Limiting;

/// <summary>
/// <see cref="Client.IFloodgateClient.ReleaseLeaseOneWay"/>: a release nobody answers still returns the permits, also
/// when it reaches the limiter after the same caller's next acquire; bad input is refused before anything is sent.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OneWayReleaseTests(ClusterFixture fixture)
{
    private static AcquireRequest Request(TimeSpan wait) => new("one-way", 1, wait);

    [Fact]
    public async Task ReleaseLeaseOneWay_TheOnlyPermit_AWaitingAcquireGetsIt()
    {
        var name = Unique.Name("one-way");
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(1));
        var first = await fixture.Client.TryAcquireLeaseAsync(name, Request(TimeSpan.Zero));

        fixture.Client.ReleaseLeaseOneWay(name, first.Lease!.LeaseId);
        var second = await fixture.Client.TryAcquireLeaseAsync(name, Request(TimeSpan.FromSeconds(30)));

        Assert.True(second.Granted, second.Reason);
        var status = await fixture.Client.GetLimiterStatusAsync(name);
        Assert.Equal((1, 2L), (status.InUse, status.Grants));
    }

    [Fact]
    public async Task ReleaseLeaseOneWay_ConcurrentRoundTripsAsManyPermitsAsCallers_AllGrantedAndNoPermitLeft()
    {
        var name = Unique.Name("one-way");
        const int callers = 4;
        const int rounds = 50;
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(callers));

        // Each caller's next acquire may overtake its own release on the way: it then waits for a permit, never fails.
        var granted = await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            var count = 0;
            for (var i = 0; i < rounds; i++)
            {
                var result = await fixture.Client.TryAcquireLeaseAsync(name, Request(TimeSpan.FromSeconds(30)));
                if (result.Lease is { } lease)
                {
                    count++;
                    fixture.Client.ReleaseLeaseOneWay(name, lease.LeaseId);
                }
            }

            return count;
        }));

        Assert.All(granted, count => Assert.Equal(rounds, count));
        await Eventually.TrueAsync(async () => (await fixture.Client.GetLimiterStatusAsync(name)).InUse == 0);
        var status = await fixture.Client.GetLimiterStatusAsync(name);
        Assert.Equal((callers * rounds, 0L, 0), ((int)status.Grants, status.Timeouts, status.Waiting));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task ReleaseLeaseOneWay_InvalidLeaseId_ThrowsAndTheLeaseStaysHeld(string? leaseId)
    {
        var name = Unique.Name("one-way");
        var held = await fixture.Client.TryAcquireLeaseAsync(name, Request(TimeSpan.Zero));

        var error = Assert.Throws<FloodgateValidationException>(() => fixture.Client.ReleaseLeaseOneWay(name, leaseId!));

        Assert.Contains("lease id", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(await fixture.Client.ReleaseLeaseAsync(name, held.Lease!.LeaseId));
    }

    [Fact]
    public void ReleaseLeaseOneWay_LeaseIdTooLong_Throws()
    {
        var error = Assert.Throws<FloodgateValidationException>(() => fixture.Client.ReleaseLeaseOneWay("one-way", new string('x', 201)));

        Assert.Contains("at most 200 characters", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has/slash")]
    public void ReleaseLeaseOneWay_InvalidLimiterName_Throws(string limiter)
    {
        var error = Assert.Throws<FloodgateValidationException>(() => fixture.Client.ReleaseLeaseOneWay(limiter, "lease-1"));

        Assert.Contains("Limiter name", error.Message);
    }
}
