using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Grains.WarmUp;
using Floodgate.ProcessCluster.Redis;
using Floodgate.Silo.Hosting;
using StackExchange.Redis;

namespace Floodgate.Api.Tests;

/// <summary>
/// The start-up warm-up of a silo started as the other API tests start theirs (but with the warm-up on, and on Redis so
/// that storage can be searched): not ready while it runs, and no trace of it anywhere — during or after.
/// </summary>
public sealed class WarmUpApiTests
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(3);

    [SkippableFact]
    public async Task StartUp_RedisSilo_NotReadyUntilWarmedUpAndNoTraceInListsMetricsOrRedis()
    {
        var unavailable = RedisProcess.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        await using var redis = await RedisProcess.StartAsync(Directory.CreateTempSubdirectory("floodgate-warm-up-").FullName);
        await using var app = FloodgateSiloHost.Build([], ApiSilo.SiloSettings(
        [
            new("Floodgate:Silo:Clustering", "Redis"),
            new("Floodgate:Silo:RedisConnectionString", redis.ConnectionString),
            new("Floodgate:Silo:WarmUp:Enabled", "true"),
        ]));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };

        // Right after start the warm-up runs: not ready, and the reason is named.
        var first = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal("degraded", Check(await JsonAsync(first), "warm-up"));
        await ApiAssert.JsonAsync(await http.GetAsync("/health/live"), HttpStatusCode.OK);

        // While it runs, and once it is over, nothing of it is listed.
        var deadline = DateTime.UtcNow + ReadyTimeout;
        JsonElement ready;
        while (true)
        {
            await AssertNothingListedAsync(http);
            var response = await http.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                ready = await JsonAsync(response);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not ready within {ReadyTimeout}: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(100);
        }

        Assert.Equal("healthy", Check(ready, "warm-up"));
        Assert.StartsWith("Warmed up in", ready.GetProperty("checks").GetProperty("warm-up").GetProperty("description").GetString());
        await AssertNothingListedAsync(http);
        var metrics = await (await http.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(WarmUpNames.Prefix, metrics, StringComparison.Ordinal);

        // Storage, reminders, membership: every key of the silo's Redis and every value in it.
        var mentions = await RedisMentionsAsync(redis.ConnectionString, WarmUpNames.Prefix);
        Assert.True(mentions.Count == 0, $"Redis still mentions the warm-up: {string.Join(", ", mentions)}");
        await app.StopAsync();
    }

    [SkippableFact]
    public async Task StartUp_WarmUpOutlastsItsTimeout_ReadyAnywaySayingSoAndNoTraceInRedis()
    {
        var unavailable = RedisProcess.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        await using var redis = await RedisProcess.StartAsync(Directory.CreateTempSubdirectory("floodgate-warm-up-").FullName);
        await using var app = FloodgateSiloHost.Build([], ApiSilo.SiloSettings(
        [
            new("Floodgate:Silo:Clustering", "Redis"),
            new("Floodgate:Silo:RedisConnectionString", redis.ConnectionString),
            new("Floodgate:Silo:WarmUp:Enabled", "true"),
            new("Floodgate:Silo:WarmUp:Timeout", "00:00:01"),
        ]));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };

        var ready = await WaitReadyAsync(http);

        Assert.Contains("ran out of time", ready.GetProperty("checks").GetProperty("warm-up").GetProperty("description").GetString());
        await AssertNothingListedAsync(http);
        var mentions = await RedisMentionsAsync(redis.ConnectionString, WarmUpNames.Prefix);
        Assert.True(mentions.Count == 0, $"Redis still mentions the warm-up: {string.Join(", ", mentions)}");
        await app.StopAsync();
    }

    private static async Task<JsonElement> WaitReadyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            var response = await http.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await JsonAsync(response);
            }

            Assert.True(DateTime.UtcNow < deadline, $"not ready within {ReadyTimeout}: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(100);
        }
    }

    private static async Task AssertNothingListedAsync(HttpClient http)
    {
        var batches = await ApiAssert.JsonAsync(await http.GetAsync("/api/batches?limit=500"), HttpStatusCode.OK);
        Assert.DoesNotContain(batches.GetProperty("batches").EnumerateArray(), b => WarmUpNames.IsWarmUp(b.GetProperty("batchId").GetString()));
        foreach (var catalog in new[] { "/api/limiters", "/api/breakers" })
        {
            var names = await ApiAssert.JsonAsync(await http.GetAsync(catalog), HttpStatusCode.OK);
            Assert.DoesNotContain(names.GetProperty("names").EnumerateArray(), n => WarmUpNames.IsWarmUp(n.GetString()));
        }
    }

    /// <summary>Keys whose name or content contains <paramref name="text"/> (strings, hashes, sets, sorted sets, lists).</summary>
    private static async Task<List<string>> RedisMentionsAsync(string connectionString, string text)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        var server = connection.GetServer(connectionString);
        var database = connection.GetDatabase();
        var needle = Encoding.UTF8.GetBytes(text);
        var mentions = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: "*"))
        {
            IEnumerable<RedisValue> values = await database.KeyTypeAsync(key) switch
            {
                RedisType.String => [await database.StringGetAsync(key)],
                RedisType.Hash => (await database.HashGetAllAsync(key)).SelectMany(e => new[] { e.Name, e.Value }),
                RedisType.Set => await database.SetMembersAsync(key),
                RedisType.SortedSet => await database.SortedSetRangeByRankAsync(key),
                RedisType.List => await database.ListRangeAsync(key),
                _ => [],
            };
            if (Contains(key.ToString(), needle) || values.Any(v => Contains(v, needle)))
            {
                mentions.Add(key.ToString());
            }
        }

        return mentions;
    }

    private static bool Contains(RedisValue value, byte[] needle) => !value.IsNull && ((byte[])value!).AsSpan().IndexOf(needle) >= 0;

    private static bool Contains(string value, byte[] needle) => Encoding.UTF8.GetBytes(value).AsSpan().IndexOf(needle) >= 0;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static string? Check(JsonElement report, string check) =>
        report.GetProperty("checks").GetProperty(check).GetProperty("status").GetString();
}
