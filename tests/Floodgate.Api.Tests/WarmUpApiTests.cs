using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Grains.WarmUp;
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
        await using var silo = await StartAsync();
        var http = silo.Http;

        // Right after start the warm-up runs: not ready, and the reason is named.
        var first = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal("degraded", Check(await JsonAsync(first), "warm-up"));
        await ApiAssert.JsonAsync(await http.GetAsync("/health/live"), HttpStatusCode.OK);

        // While it runs, and once it is over, nothing of it is listed.
        var ready = await WaitReadyAsync(http, whilePolling: AssertNothingListedAsync);

        Assert.Equal("healthy", Check(ready, "warm-up"));
        Assert.StartsWith("Warmed up in", ready.GetProperty("checks").GetProperty("warm-up").GetProperty("description").GetString());
        await AssertNothingListedAsync(http);
        var metrics = await (await http.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(WarmUpNames.Prefix, metrics, StringComparison.Ordinal);

        // Storage, reminders, membership: every key of the silo's Redis and every value in it.
        var mentions = await RedisMentionsAsync(silo.RedisConnectionString, WarmUpNames.Prefix);
        Assert.True(mentions.Count == 0, $"Redis still mentions the warm-up: {string.Join(", ", mentions)}");
        await silo.StopAsync();
    }

    [SkippableFact]
    public async Task StartUp_WarmUpOutlastsItsTimeout_ReadyAnywaySayingSoAndNoTraceInRedis()
    {
        await using var silo = await StartAsync([new("Floodgate:Silo:WarmUp:Timeout", "00:00:01")]);
        var http = silo.Http;

        var ready = await WaitReadyAsync(http);

        Assert.Contains("ran out of time", ready.GetProperty("checks").GetProperty("warm-up").GetProperty("description").GetString());
        await AssertNothingListedAsync(http);
        var mentions = await RedisMentionsAsync(silo.RedisConnectionString, WarmUpNames.Prefix);
        Assert.True(mentions.Count == 0, $"Redis still mentions the warm-up: {string.Join(", ", mentions)}");
        await silo.StopAsync();
    }

    /// <summary>The silo on its own Redis (so storage can be searched) with the warm-up on, plus <paramref name="settings"/>.</summary>
    private static Task<RedisApiSilo> StartAsync(params KeyValuePair<string, string?>[] settings) =>
        RedisApiSilo.StartAsync("warm-up", [new("Floodgate:Silo:WarmUp:Enabled", "true"), .. settings]);

    /// <summary>Polls <c>/health/ready</c> until it is 200 and returns its report; <paramref name="whilePolling"/> runs before each poll.</summary>
    private static async Task<JsonElement> WaitReadyAsync(HttpClient http, Func<HttpClient, Task>? whilePolling = null)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (whilePolling is not null)
            {
                await whilePolling(http);
            }

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
