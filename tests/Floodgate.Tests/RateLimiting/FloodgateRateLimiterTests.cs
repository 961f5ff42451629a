using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Threading.RateLimiting;
using Floodgate.Client.RateLimiting;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Floodgate.Validation;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace Floodgate.Tests.RateLimiting;

/// <summary>The <see cref="RateLimiter"/> adapter follows <see cref="ConcurrencyLimiter"/>'s contract over a global limiter.</summary>
[Collection(ClusterCollection.Name)]
public sealed class FloodgateRateLimiterTests(ClusterFixture fixture)
{
    private async Task<(string Name, RateLimiter Limiter)> CreateSutAsync(int limit, FloodgateRateLimiterOptions? options = null)
    {
        var name = Unique.Name("rl");
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(limit));
        return (name, fixture.Client.GetRateLimiter(name, options));
    }

    [Fact]
    public async Task AcquireAsync_WithinLimit_GrantsGlobalLeaseAndReleasesItOnce()
    {
        var (name, limiter) = await CreateSutAsync(2);

        var lease = await limiter.AcquireAsync(2);
        Assert.True(lease.IsAcquired);
        Assert.Equal(2, (await fixture.Client.GetLimiterStatusAsync(name)).InUse);

        lease.Dispose();
        lease.Dispose();
        await GlobalLimiterWait(name, inUse: 0);
        var stats = limiter.GetStatistics()!;
        Assert.Equal((1L, 0L), (stats.TotalSuccessfulLeases, stats.TotalFailedLeases));
    }

    [Fact]
    public async Task AttemptAcquire_LimiterFull_FailsWithReasonAndRetryAfterMetadata()
    {
        var (_, limiter) = await CreateSutAsync(1);
        using var held = await limiter.AcquireAsync(1);

        using var refused = limiter.AttemptAcquire(1);

        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("No permit", reason);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.Equal(1L, limiter.GetStatistics()!.TotalFailedLeases);
    }

    [Fact]
    public async Task AcquireAsync_QueueFull_FailsAtOnceWhileQueuedOneWaits()
    {
        var (name, limiter) = await CreateSutAsync(1, new FloodgateRateLimiterOptions { QueueLimit = 1 });
        var held = await limiter.AcquireAsync(1);

        var queued = limiter.AcquireAsync(1).AsTask();
        await GlobalLimiterWait(name, waiting: 1);
        using var overflow = await limiter.AcquireAsync(1);

        Assert.False(overflow.IsAcquired);
        Assert.True(overflow.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("queue", reason);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentQueuedCount);
        held.Dispose();
        using var granted = await queued;
        Assert.True(granted.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_ThrowsAndLeavesNoWaiter()
    {
        var (name, limiter) = await CreateSutAsync(1);
        using var held = await limiter.AcquireAsync(1);
        using var cancellation = new CancellationTokenSource();

        var waiting = limiter.AcquireAsync(1, cancellation.Token).AsTask();
        await GlobalLimiterWait(name, waiting: 1);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await GlobalLimiterWait(name, waiting: 0);
        Assert.Equal(0, limiter.GetStatistics()!.CurrentQueuedCount);
    }

    [Fact]
    public async Task AcquireAsync_Disposed_Throws()
    {
        var (_, limiter) = await CreateSutAsync(1);
        await limiter.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => limiter.AcquireAsync(1).AsTask());
    }

    [Fact]
    public void GetRateLimiter_NonPositiveAttemptTimeoutAndNegativeRefresh_ThrowsValidationListingBoth()
    {
        var ex = Assert.Throws<FloodgateValidationException>(() => fixture.Client.GetRateLimiter(
            "ok",
            new FloodgateRateLimiterOptions { AttemptTimeout = TimeSpan.Zero, StatisticsRefreshInterval = TimeSpan.FromSeconds(-1) }));

        Assert.Contains(ex.Errors, e => e.Contains("AttemptTimeout", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("StatisticsRefreshInterval", StringComparison.Ordinal));
    }

    [Fact]
    public void GetRateLimiter_NegativeQueueLimit_ThrowsValidation() =>
        Assert.Throws<FloodgateValidationException>(() => fixture.Client.GetRateLimiter("ok", new FloodgateRateLimiterOptions { QueueLimit = -1 }));

    [Fact]
    public async Task HttpClientResilienceHandler_WithAdapter_UpstreamSeesAtMostTheGlobalLimit()
    {
        var (_, limiter) = await CreateSutAsync(3);
        var services = new ServiceCollection();
        services.AddHttpClient("upstream", c => c.BaseAddress = fixture.Simulator.BaseUrl)
            .AddResilienceHandler("floodgate", pipeline => pipeline.AddRateLimiter(limiter));
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");
        fixture.Simulator.ResetStats();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "m", messages = new[] { new { role = "user", content = $"q{i}" } } }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ClusterFixture.UpstreamApiKey);
            using var response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(200, s));
        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 3);
    }

    private Task GlobalLimiterWait(string name, int? inUse = null, int? waiting = null) =>
        Eventually.TrueAsync(async () =>
        {
            var status = await fixture.Client.GetLimiterStatusAsync(name);
            return (inUse is null || status.InUse == inUse) && (waiting is null || status.Waiting == waiting);
        });
}
