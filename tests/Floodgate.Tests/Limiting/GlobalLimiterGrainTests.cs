using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Limiting;

[Collection(ClusterCollection.Name)]
public sealed class GlobalLimiterGrainTests(ClusterFixture fixture)
{
    private IGlobalLimiterGrain CreateSut(out string name)
    {
        name = Unique.Name("lim");
        return fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);
    }

    private static AcquireRequest Request(string holder, TimeSpan? wait = null) => new(holder, 1, wait ?? TimeSpan.FromSeconds(30));

    [Fact]
    public async Task AcquireAsync_FiftyConcurrentCallersLimitFive_NeverMoreThanFiveHeld()
    {
        var limiter = CreateSut(out _);
        await limiter.SetLimitsAsync(new LimiterLimits(5));
        var held = 0;
        var maxHeld = 0;

        await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var result = await limiter.AcquireAsync(Request($"caller{i % 7}"));
            var now = Interlocked.Increment(ref held);
            InterlockedMax.Raise(ref maxHeld, now);
            await Task.Delay(5);
            Interlocked.Decrement(ref held);
            await limiter.ReleaseAsync(result.Lease!.LeaseId);
        }));

        var status = await limiter.GetStatusAsync();
        Assert.InRange(maxHeld, 1, 5);
        Assert.Equal(5, status.HighWaterMark);
        Assert.Equal(50, status.Grants);
        Assert.Equal(0, status.InUse);
        Assert.Equal(0, status.Waiting);
    }

    [Fact]
    public async Task AcquireAsync_HundredWaitersLimitOne_AllServedWithoutDeadlock()
    {
        var limiter = CreateSut(out _);
        await limiter.SetLimitsAsync(new LimiterLimits(1));

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            // A waiter may be answered "still queued" after Limiters:MaxRequestHold on a busy machine: wait on as callers do.
            var result = await limiter.AcquireWaitingAsync(Request($"h{i}"), TimeProvider.System);
            await limiter.ReleaseAsync(result.Lease!.LeaseId);
            return result.Granted;
        }));

        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task AcquireAsync_WaitersOfOneHolder_GrantedInArrivalOrder()
    {
        var limiter = CreateSut(out _);
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        var first = await limiter.AcquireAsync(Request("h"));
        var order = new List<int>();
        var waiters = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            var index = i;
            waiters.Add(Task.Run(async () =>
            {
                var result = await limiter.AcquireAsync(Request("h"));
                lock (order)
                {
                    order.Add(index);
                }

                await limiter.ReleaseAsync(result.Lease!.LeaseId);
            }));

            // Wait until this waiter is queued so arrival order is known.
            await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Waiting == index + 1);
        }

        await limiter.ReleaseAsync(first.Lease!.LeaseId);
        await Task.WhenAll(waiters);

        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public async Task ReleaseAsync_Twice_SecondSaysUnknownAndFreesNothing()
    {
        var limiter = CreateSut(out _);
        var lease = (await limiter.AcquireAsync(Request("h"))).Lease!;

        Assert.True(await limiter.ReleaseAsync(lease.LeaseId));
        Assert.False(await limiter.ReleaseAsync(lease.LeaseId));
        Assert.False(await limiter.ReleaseAsync("never-granted"));
        Assert.Equal(0, (await limiter.GetStatusAsync()).InUse);
    }

    [Fact]
    public async Task AcquireAsync_WaitTimeoutPasses_FailsWithHintAndLeavesNoWaiter()
    {
        var limiter = CreateSut(out _);
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        await limiter.AcquireAsync(Request("holder"));

        var result = await limiter.AcquireAsync(Request("late", TimeSpan.FromMilliseconds(100)));

        Assert.False(result.Granted);
        Assert.Equal(AcquireFailure.Timeout, result.Failure);
        Assert.NotNull(result.RetryAfter);
        var status = await limiter.GetStatusAsync();
        Assert.Equal(0, status.Waiting);
        Assert.Empty(status.Waiters);
        Assert.Equal(1, status.Timeouts);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_LeavesNoWaiter()
    {
        var limiter = CreateSut(out _);
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        await limiter.AcquireAsync(Request("holder"));
        using var cancellation = new CancellationTokenSource();

        var waiting = limiter.AcquireAsync(Request("late"), cancellation.Token);
        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Waiting == 1);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Waiting == 0);
        Assert.Equal(1, (await limiter.GetStatusAsync()).InUse);
    }

    [Fact]
    public async Task GetStatusAsync_WithHoldersAndWaiters_ReportsThem()
    {
        var limiter = CreateSut(out var name);
        await limiter.SetLimitsAsync(new LimiterLimits(2));
        await limiter.AcquireAsync(Request("a"));
        await limiter.AcquireAsync(Request("b"));
        var waiting = limiter.AcquireAsync(Request("c"));
        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Waiting == 1);

        var status = await limiter.GetStatusAsync();

        Assert.Equal(name, status.Name);
        Assert.Equal(2, status.MaxConcurrency);
        Assert.Equal(LimitSource.Admin, status.LimitSource);
        Assert.Equal(2, status.InUse);
        Assert.Equal(0, status.Available);
        Assert.Equal(["a", "b"], status.Holders.Select(h => h.Holder).Order());
        Assert.Equal("c", Assert.Single(status.Waiters).Holder);

        await limiter.SetLimitsAsync(new LimiterLimits(3));
        Assert.True((await waiting).Granted);
    }

    [Fact]
    public async Task ConfigureAsync_SecondDifferentLimit_KeepsFirstAndWarns()
    {
        var limiter = CreateSut(out _);

        var first = await limiter.ConfigureAsync(4);
        var second = await limiter.ConfigureAsync(9);

        Assert.Null(first.Warning);
        Assert.Equal(4, second.MaxConcurrency);
        Assert.Contains("not applied", second.Warning);
        Assert.Equal(4, (await limiter.GetStatusAsync()).MaxConcurrency);
    }

    [Fact]
    public async Task GetStatusAsync_Unconfigured_UsesSiloConfigurationThenDefault()
    {
        var configured = await fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>("configured-limiter").GetStatusAsync();
        var unconfigured = await CreateSut(out _).GetStatusAsync();

        Assert.Equal((7, LimitSource.Configuration), (configured.MaxConcurrency, configured.LimitSource));
        Assert.Equal((FloodgateDefaults.MaxConcurrency, LimitSource.Default), (unconfigured.MaxConcurrency, unconfigured.LimitSource));
    }

    [Theory]
    [InlineData("", 1, 1000)]
    [InlineData("ok", 0, 1000)]
    [InlineData("ok", 61, 1000)]
    [InlineData("ok", 1, -1)]
    [InlineData("a/b", 1, 1000)]
    public async Task AcquireAsync_BadRequest_ThrowsValidationAndChangesNothing(string holder, int weight, int waitMs)
    {
        var limiter = CreateSut(out _);

        await Assert.ThrowsAsync<FloodgateValidationException>(() =>
            limiter.AcquireAsync(new AcquireRequest(holder, weight, TimeSpan.FromMilliseconds(waitMs))));

        var status = await limiter.GetStatusAsync();
        Assert.Equal((0, 0L, 0), (status.InUse, status.Grants, status.Waiting));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task SetLimitsAsync_NonPositive_ThrowsAndKeepsLimit(int limit)
    {
        var limiter = CreateSut(out _);

        await Assert.ThrowsAsync<FloodgateValidationException>(() => limiter.SetLimitsAsync(new LimiterLimits(limit)));

        Assert.Equal(FloodgateDefaults.MaxConcurrency, (await limiter.GetStatusAsync()).MaxConcurrency);
    }
}
