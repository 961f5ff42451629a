using System.Net;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;
using StackExchange.Redis;

namespace Floodgate.Api.Tests;

public sealed class HealthApiTests(OpenApiSilo silo) : IClassFixture<OpenApiSilo>
{
    [Fact]
    public async Task Live_RunningSilo_Returns200WithoutChecks()
    {
        var report = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, "/health/live"), HttpStatusCode.OK);

        Assert.Equal("healthy", report.GetProperty("status").GetString());
        Assert.Empty(report.GetProperty("checks").EnumerateObject());
    }

    [Fact]
    public async Task Ready_LocalhostSilo_Returns200WithClusterAndMembership()
    {
        var report = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, "/health/ready"), HttpStatusCode.OK);

        Assert.Equal("healthy", Status(report, "cluster"));
        Assert.Equal("healthy", Status(report, "membership"));
        Assert.False(report.GetProperty("checks").TryGetProperty("redis", out _));
    }

    [SkippableFact]
    public async Task Ready_RedisStopsAnswering_Returns503NamingRedisAndMembershipThenRecovers()
    {
        await using var redisSilo = await RedisApiSilo.StartAsync("health");
        var http = redisSilo.Http;
        var redis = redisSilo.RedisConnectionString;
        var before = await ApiAssert.JsonAsync(await http.GetAsync("/health/ready"), HttpStatusCode.OK);
        Assert.Equal("healthy", Status(before, "redis"));
        Assert.Equal("healthy", Status(before, "membership"));

        // Redis stops answering every client for a while (as when it hangs or the network drops), then comes back.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true"))
        {
            await admin.GetServer(redis).ExecuteAsync("CLIENT", "PAUSE", "15000", "ALL");
        }

        // Polled within the pause: on a loaded machine one check may start late; within the pause every check must fail.
        var pauseEnds = DateTime.UtcNow + TimeSpan.FromSeconds(12);
        JsonElement during;
        HttpStatusCode duringStatus;
        do
        {
            var response = await http.GetAsync("/health/ready");
            duringStatus = response.StatusCode;
            during = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }
        while ((Status(during, "redis") != "unhealthy" || Status(during, "membership") != "unhealthy") && DateTime.UtcNow < pauseEnds);

        Assert.Equal("unhealthy", during.GetProperty("status").GetString());
        Assert.Equal("unhealthy", Status(during, "redis"));
        Assert.Equal("unhealthy", Status(during, "membership"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, duringStatus);
        Assert.DoesNotContain(redis, during.GetRawText(), StringComparison.Ordinal);
        await ApiAssert.JsonAsync(await http.GetAsync("/health/live"), HttpStatusCode.OK);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpResponseMessage after;
        while ((after = await http.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        Assert.Equal("healthy", Status(await ApiAssert.JsonAsync(after, HttpStatusCode.OK), "redis"));
        await redisSilo.StopAsync();
    }

    private static string? Status(JsonElement report, string check) =>
        report.GetProperty("checks").GetProperty(check).GetProperty("status").GetString();
}
