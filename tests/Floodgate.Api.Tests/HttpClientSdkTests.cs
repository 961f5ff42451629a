using System.Net;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client.Http;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Api.Tests;

/// <summary><see cref="FloodgateHttpClient"/> (the SDK over HTTP) against a real silo with keys.</summary>
public sealed class HttpClientSdkTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task SubmitWatchResults_ClientKey_FollowTheBatchInOrder()
    {
        var client = Client(silo.ClientKey);

        var batch = await client.SubmitBatchAsync(new BatchSpec { Items = ["\"a\"", "{\"b\":2}", "3"], Processor = "echo", Limiter = ApiSilo.UniqueName("sdk-http"), LocalLimit = 1 });
        var seen = new List<BatchProgress>();
        await foreach (var progress in batch.WatchAsync())
        {
            seen.Add(progress);
        }

        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in client.GetBatch(batch.Id).ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        Assert.Equal(BatchState.Completed, seen[^1].State);
        Assert.Equal(seen.Select(p => p.Version).Order(), seen.Select(p => p.Version));
        Assert.Equal([0, 1, 2], outcomes.Select(o => o.Position));
        Assert.Equal(["\"a\"", "{\"b\":2}", "3"], outcomes.Select(o => o.Result));
        Assert.All(outcomes, o => Assert.Equal(ItemStatus.Succeeded, o.Status));
    }

    [Fact]
    public async Task LimitsAndBreaker_AdminKey_ReadAndChange()
    {
        var client = Client(silo.AdminKey);
        var limiter = ApiSilo.UniqueName("sdk-http");

        var changed = await client.SetLimitsAsync(limiter, new LimiterLimits(4, 600, 0.5));
        var status = await client.GetLimiterStatusAsync(limiter);
        var breaker = await client.GetBreakerStatusAsync(limiter);

        Assert.Equal((4, LimitSource.Admin, 300), (changed.MaxConcurrency, changed.LimitSource, changed.RateBudget));
        Assert.Equal(4, status.MaxConcurrency);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.BreakDuration > TimeSpan.Zero);
    }

    [Fact]
    public async Task SetLimits_ClientKey_ThrowsAccessDenied403AndChangesNothing()
    {
        var limiter = ApiSilo.UniqueName("sdk-http");

        var denied = await Assert.ThrowsAsync<FloodgateAccessDeniedException>(() => Client(silo.ClientKey).SetLimitsAsync(limiter, new LimiterLimits(2)));

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("admin key", denied.Message);
        Assert.NotEqual(2, (await Client(silo.ClientKey).GetLimiterStatusAsync(limiter)).MaxConcurrency);
    }

    [Fact]
    public async Task AnyCall_WrongKey_ThrowsAccessDenied401WithoutTheKey()
    {
        const string wrongKey = "a-wrong-key-for-this-silo";

        var denied = await Assert.ThrowsAsync<FloodgateAccessDeniedException>(() => Client(wrongKey).GetBatch("b-1").GetProgressAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.DoesNotContain(wrongKey, denied.Message);
    }

    [Fact]
    public async Task GetProgress_UnknownBatch_ThrowsNotFound()
    {
        var notFound = await Assert.ThrowsAsync<FloodgateNotFoundException>(() => Client(silo.ClientKey).GetBatch("b-nosuchbatch7").GetProgressAsync());

        Assert.Equal(("batch", "b-nosuchbatch7"), (notFound.Kind, notFound.Id));
    }

    [Fact]
    public async Task Submit_InvalidSpec_ThrowsBeforeSending()
    {
        // No key: had it been sent, the silo would answer 401, not a validation error.
        var client = Client(key: null);

        var invalid = await Assert.ThrowsAsync<FloodgateValidationException>(
            () => client.SubmitBatchAsync(new BatchSpec { Items = ["not json"], LocalLimit = 0 }, batchId: "bad id!"));

        Assert.Equal(3, invalid.Errors.Count);
    }

    [Theory]
    [InlineData("ftp://floodgate/", null, "http://")]
    [InlineData("http://127.0.0.1:1/", "key with spaces", "printable ASCII")]
    public void Create_BadOptions_ThrowsNamingTheProblem(string url, string? key, string mentions)
    {
        var invalid = Assert.Throws<FloodgateValidationException>(
            () => new FloodgateHttpClient(new HttpClient(), new FloodgateHttpClientOptions { BaseAddress = new Uri(url), ApiKey = key }));

        Assert.Contains(mentions, invalid.Message);
    }

    private FloodgateHttpClient Client(string? key) =>
        new(silo.Http, new FloodgateHttpClientOptions { ApiKey = key, WatchInterval = TimeSpan.Zero });
}
