using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.RateLimiting;

/// <summary>
/// The SDK's <c>AcquireAsync</c> undoes by request id every acquire whose caller gave up or lost the answer, so no grant
/// in transit is left held by nobody until its TTL.
/// </summary>
[Collection(RateLimiterClusterCollection.Name)]
public sealed class ClientAcquireCancellationTests(RateLimiterCluster cluster)
{
    [Fact]
    public async Task AcquireAsync_CancelledWhileItsGrantIsInTransit_LimiterInUseReturnsToZero()
    {
        var name = await CreateLimiterAsync(1);
        var held = await cluster.Client.AcquireAsync(name);
        using var hold = GrantHold.Arm(name);
        using var cancellation = new CancellationTokenSource();
        var waiting = cluster.Client.AcquireAsync(name, 1, TimeSpan.FromMinutes(1), cancellation.Token);
        await Eventually.TrueAsync(async () => (await cluster.Limiter(name).GetStatusAsync()).Waiting == 1);

        await held.DisposeAsync();
        await hold.GrantHeld.WaitAsync(TimeSpan.FromSeconds(30));
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        await Eventually.TrueAsync(async () => (await cluster.Limiter(name).GetStatusAsync()).InUse == 0);
    }

    [Fact]
    public async Task AcquireAsync_AnswerToAGrantLost_RetryWithTheSameRequestIdGetsThatGrantNotASecond()
    {
        var name = await CreateLimiterAsync(2);
        using var lost = GrantHold.ArmLostAnswer(name);

        var lease = await cluster.Client.AcquireAsync(name);

        Assert.Equal(1, (await cluster.Limiter(name).GetStatusAsync()).InUse);
        await lease.DisposeAsync();
        Assert.Equal(0, (await cluster.Limiter(name).GetStatusAsync()).InUse);
    }

    private async Task<string> CreateLimiterAsync(int limit)
    {
        var name = Unique.Name("sdk");
        await cluster.Client.SetLimitsAsync(name, new LimiterLimits(limit));
        return name;
    }
}
