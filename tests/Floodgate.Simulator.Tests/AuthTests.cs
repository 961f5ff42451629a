using System.Net;

namespace Floodgate.Simulator.Tests;

public sealed class AuthTests
{
    private const string Key = "sk-sim-very-secret-4711";

    [Fact]
    public async Task ChatCompletions_ApiKeySet_RequiresMatchingBearerToken()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, ApiKey = Key });

        using var missing = await sim.ChatAsync("hello");
        using var wrong = await sim.ChatAsync("hello", bearer: "sk-wrong");
        using var prefix = await sim.ChatAsync("hello", bearer: Key[..^1]);
        using var ok = await sim.ChatAsync("hello", bearer: Key);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, prefix.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("invalid_request_error", await TestSimulator.ErrorTypeAsync(missing));

        foreach (HttpResponseMessage response in new[] { missing, wrong, prefix, ok })
        {
            Assert.DoesNotContain(Key, await response.Content.ReadAsStringAsync());
            Assert.DoesNotContain(Key, response.Headers.ToString());
        }

        SimulatorStats stats = sim.Server.GetStats();
        Assert.Equal(3, stats.Unauthorized);
        Assert.Equal(1, stats.TotalRequests);
        Assert.Equal(1, stats.Completed);
        Assert.Equal(1, stats.MaxConcurrent);
    }

    [Fact]
    public async Task ChatCompletions_ApiKeyNotSet_AcceptsRequestsWithoutAuthorization()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, ApiKey = "" });

        using var response = await sim.ChatAsync("hello");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StatsAndHealth_ApiKeySet_DoNotRequireKeyAndNeverShowIt()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, ApiKey = Key });

        using var stats = await sim.Http.GetAsync("stats");
        using var health = await sim.Http.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.DoesNotContain(Key, await stats.Content.ReadAsStringAsync());
    }
}
