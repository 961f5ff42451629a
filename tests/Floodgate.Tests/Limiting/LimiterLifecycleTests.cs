using Floodgate.Batches;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Tests.Limiting;

/// <summary>Rate budgets, live limit changes, nested admission and recovery, through the cluster.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LimiterLifecycleTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AcquireAsync_RateBudgetUsedUp_FailsWithBudgetReasonAndRetryAfter()
    {
        var name = Unique.Name("rate");
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);
        await limiter.SetLimitsAsync(new LimiterLimits(100, RequestsPerMinute: 60, RateSafetyFactor: 0.5));

        var results = new List<AcquireResult>();
        for (var i = 0; i < 40; i++)
        {
            var result = await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero));
            results.Add(result);
            if (result.Lease is { } lease)
            {
                await limiter.ReleaseAsync(lease.LeaseId);
            }
        }

        Assert.Equal(30, results.Count(r => r.Granted));
        var refused = results.First(r => !r.Granted);
        Assert.Contains("budget", refused.Reason);
        Assert.InRange(refused.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        var status = await limiter.GetStatusAsync();
        Assert.Equal((60, 30, 0), (status.RequestsPerMinute, status.RateBudget, status.RateAvailable));
    }

    [Fact]
    public async Task SetLimitsAsync_RaisedThenLoweredUnderLoad_UpstreamFollowsAndNeverExceedsLowerLimitAfterDrain()
    {
        var name = Unique.Name("live");
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(2));
        fixture.Simulator.ResetStats();
        var items = TestItems.Words(400);
        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = "openai-chat", Limiter = name, LocalLimit = 10 });
        await Eventually.TrueAsync(async () => (await handle.GetProgressAsync()).Done >= 20);
        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 2);

        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(8));
        await Eventually.TrueAsync(async () => (await fixture.Client.GetLimiterStatusAsync(name)).HighWaterMark >= 7);
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(3));
        await Eventually.TrueAsync(async () => (await fixture.Client.GetLimiterStatusAsync(name)).InUse <= 3);
        fixture.Simulator.ResetStats();
        await handle.WaitForCompletionAsync();

        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 3);
        Assert.Equal(400, (await handle.GetProgressAsync()).Succeeded);
    }

    [Fact]
    public async Task SubmitBatchAsync_AccountAndModelLimiters_BothLimitsHoldAtTheUpstream()
    {
        var account = Unique.Name("acct");
        var modelA = Unique.Name("model-a");
        var modelB = Unique.Name("model-b");
        await fixture.Client.SetLimitsAsync(account, new LimiterLimits(5));
        await fixture.Client.SetLimitsAsync(modelA, new LimiterLimits(2));
        await fixture.Client.SetLimitsAsync(modelB, new LimiterLimits(4));
        fixture.Simulator.ResetStats();

        BatchSpec Batch(string model, string prefix) => new()
        {
            Items = TestItems.Words(50, prefix),
            Processor = "openai-chat",
            ProcessorOptions = new Dictionary<string, string> { ["model"] = model },
            Limiter = account,
            AdditionalLimiters = [model],
            LocalLimit = 10,
        };

        var a = await fixture.Client.SubmitBatchAsync(Batch(modelA, "a"));
        var b = await fixture.Client.SubmitBatchAsync(Batch(modelB, "b"));
        var finals = await Task.WhenAll(a.WaitForCompletionAsync(), b.WaitForCompletionAsync());

        Assert.All(finals, p => Assert.Equal(50, p.Succeeded));
        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 5);
        Assert.InRange(fixture.Simulator.MaxConcurrentFor(modelA), 1, 2);
        Assert.InRange(fixture.Simulator.MaxConcurrentFor(modelB), 1, 4);
        foreach (var limiter in new[] { account, modelA, modelB })
        {
            Assert.Equal(0, (await fixture.Client.GetLimiterStatusAsync(limiter)).InUse);
        }
    }

    [Fact]
    public async Task SubmitBatchAsync_SecondLimiterNeverFree_ItemsFailAndHoldNothingOfTheFirst()
    {
        var first = Unique.Name("aaa");
        var second = Unique.Name("zzz");
        await fixture.Client.SetLimitsAsync(second, new LimiterLimits(1));
        await using var blocker = await fixture.Client.AcquireAsync(second);

        var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = TestItems.Words(4),
            Limiter = first,
            AdditionalLimiters = [second],
            LocalLimit = 4,
            PermitTimeout = TimeSpan.FromMilliseconds(200),
        });
        var final = await handle.WaitForCompletionAsync();

        Assert.Equal(4, final.Failed);
        var status = await fixture.Client.GetLimiterStatusAsync(first);
        Assert.Equal(0, status.InUse);
        Assert.Equal(4, status.Grants);
    }

    [Fact]
    public async Task Deactivation_WhileLeasesHeld_SuccessorTakesTheTableOverAndGrantsAtOnceUnderTheLimit()
    {
        var name = Unique.Name("handover");
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);
        await limiter.SetLimitsAsync(new LimiterLimits(2));
        var kept = (await limiter.AcquireAsync(new AcquireRequest("survivor", 1, TimeSpan.Zero))).Lease!;
        var epoch = (await limiter.GetStatusAsync()).Epoch;

        // A deactivation (rolling deploy, migration) hands the lease table over to the next activation.
        await fixture.Cluster.DeactivateAsync(limiter);
        await fixture.Cluster.WaitForDeactivationAsync(limiter);

        var next = await limiter.AcquireAsync(new AcquireRequest("newcomer", 1, TimeSpan.Zero));
        var over = await limiter.AcquireAsync(new AcquireRequest("newcomer", 1, TimeSpan.Zero));
        Assert.True(next.Granted);
        Assert.Equal(AcquireFailure.Timeout, over.Failure);
        var status = await limiter.GetStatusAsync();
        Assert.Equal((epoch + 1, 2, 1L), (status.Epoch, status.InUse, status.Restored));
        Assert.NotNull(await limiter.RenewAsync(RenewRequest.For(kept)));
    }

    [Fact]
    public async Task RenewAsync_UnknownLease_ReturnsNullAndAdoptsNothing()
    {
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(Unique.Name("renew"));

        var renewed = await limiter.RenewAsync(new RenewRequest("made-up", "someone"));

        Assert.Null(renewed);
        Assert.Equal(0, (await limiter.GetStatusAsync()).InUse);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(5, 0, null)]
    [InlineData(5, 100, 0.0)]
    [InlineData(5, 100, 1.5)]
    public async Task SetLimitsAsync_InvalidLimits_RejectedEverywhereAndNothingChanges(int max, int? rpm, double? factor)
    {
        var name = Unique.Name("bad");
        var limits = new LimiterLimits(max, rpm, factor);

        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SetLimitsAsync(name, limits));
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name).SetLimitsAsync(limits));

        var status = await fixture.Client.GetLimiterStatusAsync(name);
        Assert.Equal((FloodgateDefaults.MaxConcurrency, LimitSource.Default, (int?)null), (status.MaxConcurrency, status.LimitSource, status.RequestsPerMinute));
    }

    [Theory]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("a/b")]
    public async Task Sdk_BadLimiterName_ThrowsValidationBeforeAnyCall(string name)
    {
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.GetLimiterStatusAsync(name));
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.AcquireAsync(name));
    }

    [Fact]
    public async Task Sdk_OversizedLimiterName_ThrowsValidation() =>
        await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.GetLimiterStatusAsync(new string('x', 201)));
}
