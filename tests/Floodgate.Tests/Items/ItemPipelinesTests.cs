using Floodgate.Grains.Items;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.Processors;
using Floodgate.Limiting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;

namespace Floodgate.Tests.Items;

public sealed class ItemPipelinesTests
{
    private readonly FakeTimeProvider _time = new();

    private ItemPipelines CreateSut(int maxRetryAttempts = 3) =>
        new(Options.Create(new ItemProcessingOptions { MaxRetryAttempts = maxRetryAttempts }), Options.Create(new LimiterOptions()), _time);

    [Fact]
    public void LeaseTtl_Defaults_IsTheAttemptTimeoutPlusTheMarginNotTheLimitersDefault()
    {
        Assert.Equal(TimeSpan.FromSeconds(35), CreateSut().LeaseTtl);
    }

    [Theory]
    [InlineData(20, 60, 1, 25)] // the attempt plus the margin
    [InlineData(58, 60, 1, 60)] // never above the limiters' default TTL (which must exceed the attempt timeout)
    [InlineData(1, 60, 10, 10)] // never below the shortest TTL limiters accept
    public void LeaseTtlFor_ClampsTheAttemptPlusMarginToWhatLimitersAccept(int attemptSeconds, int defaultTtlSeconds, int minTtlSeconds, int expectedSeconds)
    {
        var limiters = new LimiterOptions { DefaultLeaseTtl = TimeSpan.FromSeconds(defaultTtlSeconds), MinLeaseTtl = TimeSpan.FromSeconds(minTtlSeconds) };

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), ItemPipelines.LeaseTtlFor(TimeSpan.FromSeconds(attemptSeconds), limiters));
    }

    [Fact]
    public async Task Item_ZeroRetries_RunsOnceAndFailsWithTheFirstError()
    {
        var pipelines = CreateSut(maxRetryAttempts: 0);
        var calls = 0;

        await Assert.ThrowsAsync<UpstreamException>(async () => await pipelines.Item.ExecuteAsync(_ =>
        {
            calls++;
            throw new UpstreamException("busy", 503, isTransient: true);
        }));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task RunClusterCallAsync_SiloUnavailableThenAnswer_RetriesUntilItAnswers()
    {
        var pipelines = CreateSut();
        var calls = 0;

        var running = pipelines.RunClusterCallAsync(_ => ++calls < 3 ? throw new SiloUnavailableException() : ValueTask.FromResult(calls), CancellationToken.None).AsTask();
        while (!running.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }

        Assert.Equal(3, await running);
    }

    [Fact]
    public async Task RunClusterCallAsync_FaultOutlastsTheRetryTimeout_FailsNamingTheFaultWithoutAddresses()
    {
        var pipelines = CreateSut();

        var running = pipelines.RunClusterCallAsync<int>(_ => throw new LimiterMovedException("acct"), CancellationToken.None).AsTask();
        while (!running.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(1);
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => running);
        Assert.True(ItemFailures.IsTransient(error));
        Assert.Contains("moving", ItemFailures.Describe(error, TimeSpan.FromSeconds(30)), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_SiloUnavailable_NamesTheClusterFaultWithoutItsMessage()
    {
        var description = ItemFailures.Describe(new SiloUnavailableException("S127.0.0.1:11111:123 is dead"), TimeSpan.FromSeconds(30));

        Assert.DoesNotContain("127.0.0.1", description, StringComparison.Ordinal);
        Assert.StartsWith("The cluster was unavailable", description, StringComparison.Ordinal);
    }

    [Fact]
    public void IsTransient_FaultsOfTheCluster_AreRetried()
    {
        Assert.True(ItemFailures.IsTransient(new SiloUnavailableException()));
        Assert.True(ItemFailures.IsTransient(new LimiterMovedException("acct")));
        Assert.True(ItemFailures.IsTransient(new TimeoutException()));
    }
}
