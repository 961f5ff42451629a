using Floodgate.Grains.Batches;

namespace Floodgate.Tests.Batches;

public sealed class AdaptiveLimitTests
{
    [Fact]
    public void OnOutcome_RateLimited_HalvesOncePerWindow()
    {
        var limit = new AdaptiveLimit(8, increaseAfterSuccesses: 2);

        limit.OnOutcome(false, rateLimited: true);
        Assert.Equal(4, limit.Effective);

        // Outcomes of items that were in flight before the halving do not halve again.
        limit.OnOutcome(false, rateLimited: true);
        limit.OnOutcome(false, rateLimited: true);
        Assert.Equal(4, limit.Effective);

        limit.OnOutcome(true, false);
        limit.OnOutcome(false, rateLimited: true);
        Assert.Equal(2, limit.Effective);
    }

    [Fact]
    public void OnOutcome_RepeatedRateLimits_NeverBelowOne()
    {
        var limit = new AdaptiveLimit(2, 2);
        for (var i = 0; i < 20; i++)
        {
            limit.OnOutcome(false, rateLimited: true);
        }

        Assert.Equal(1, limit.Effective);
    }

    [Fact]
    public void OnOutcome_SuccessesAfterHalving_GrowByOnePerNUpToConfigured()
    {
        var limit = new AdaptiveLimit(4, increaseAfterSuccesses: 3);
        limit.OnOutcome(false, rateLimited: true);
        Assert.Equal(2, limit.Effective);

        for (var i = 0; i < 3; i++)
        {
            limit.OnOutcome(true, false);
        }

        Assert.Equal(3, limit.Effective);
        for (var i = 0; i < 100; i++)
        {
            limit.OnOutcome(true, false);
        }

        Assert.Equal(4, limit.Effective);
    }
}
