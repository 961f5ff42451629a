using System.ClientModel;
using System.Net;
using System.Text.Json;
using Floodgate.Gateway.Tests.Infrastructure;
using Floodgate.Simulator;
using OpenAI.Chat;

namespace Floodgate.Gateway.Tests;

/// <summary>Virtual keys: tenants, fairness, caps, per-key usage, and the upstream key kept on the gateway.</summary>
public sealed class VirtualKeyTests
{
    private const string UpstreamKey = "sk-upstream-0123456789abcdef-SECRET";
    private const string KeyA = "gw-team-a-0123456789abcdef";
    private const string KeyB = "gw-team-b-0123456789abcdef";
    private const string KeyCapped = "gw-capped-0123456789abcdef";

    private static Dictionary<string, string?> Keys(int accountLimit) => new()
    {
        ["Floodgate:Gateway:Upstreams:sim:ApiKey"] = UpstreamKey,
        ["Floodgate:Gateway:Upstreams:sim:MaxConcurrency"] = accountLimit.ToString(),
        ["Floodgate:Gateway:Keys:0:Key"] = KeyA,
        ["Floodgate:Gateway:Keys:0:Tenant"] = "team-a",
        ["Floodgate:Gateway:Keys:1:Key"] = KeyB,
        ["Floodgate:Gateway:Keys:1:Tenant"] = "team-b",
        ["Floodgate:Gateway:Keys:2:Key"] = KeyCapped,
        ["Floodgate:Gateway:Keys:2:Tenant"] = "capped",
        ["Floodgate:Gateway:Keys:2:MaxConcurrency"] = "1",
    };

    [Fact]
    public async Task ChatCompletions_TwoKeysOneFloodingFirst_TheOtherIsServedRoundRobinNotAfterTheFlood()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { ApiKey = UpstreamKey, LatencyMs = 100 }, Keys(accountLimit: 2));
        var finished = new System.Collections.Concurrent.ConcurrentQueue<string>();
        async Task SendAsync(ChatClient client, string tenant, int i)
        {
            await client.CompleteChatAsync(new UserChatMessage($"{tenant} {i}"));
            finished.Enqueue(tenant);
        }

        var flood = Enumerable.Range(0, 40).Select(i => SendAsync(silo.Chat(KeyA), "a", i)).ToList();
        Assert.True(await GatewaySilo.EventuallyAsync(async () => (await silo.StatusAsync()).Waiting >= 30, TimeSpan.FromSeconds(20)));
        var small = Enumerable.Range(0, 10).Select(i => SendAsync(silo.Chat(KeyB), "b", i)).ToList();
        await Task.WhenAll(small);
        var floodDoneWhenSmallDone = finished.Count(t => t == "a");
        await Task.WhenAll(flood);

        // Served first-come-first-served, b would wait for all 40 of a; round-robin serves it between a's grants.
        Assert.True(floodDoneWhenSmallDone <= 30, $"{floodDoneWhenSmallDone} of team-a's 40 requests finished before team-b's 10");
        var usage = (await silo.StatusAsync()).Usage;
        Assert.Equal(40, usage.Single(u => u.Holder == "team-a").Requests);
        Assert.Equal(10, usage.Single(u => u.Holder == "team-b").Requests);
        Assert.True(silo.Simulator.GetStats().MaxConcurrent <= 2);
    }

    [Fact]
    public async Task ChatCompletions_KeyWithItsOwnCap_NeverHasMoreInFlightThanItsCap()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { ApiKey = UpstreamKey, LatencyMs = 50 }, Keys(accountLimit: 10));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => silo.Chat(KeyCapped).CompleteChatAsync(new UserChatMessage($"c {i}"))));

        Assert.Equal(1, silo.Simulator.GetStats().MaxConcurrent);
        var cap = await silo.StatusAsync("gateway-tenant:capped");
        Assert.Equal(1, cap.MaxConcurrency);
        Assert.Equal(8, cap.Grants);
    }

    [Fact]
    public async Task ChatCompletions_MissingOrUnknownKey_Answers401WithAnOpenAiErrorAndNeverReachesTheUpstream()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { ApiKey = UpstreamKey, LatencyMs = 0 }, Keys(accountLimit: 2));

        using var missing = await silo.PostChatAsync("hello");
        using var unknown = await silo.PostChatAsync("hello", key: "gw-nobody-0123456789abcdef");
        using var upstreamKeyItself = await silo.PostChatAsync("hello", key: UpstreamKey);

        foreach (var response in new[] { missing, unknown, upstreamKeyItself })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        }

        Assert.Equal(0, silo.Simulator.GetStats().TotalRequests + silo.Simulator.GetStats().Unauthorized);
    }

    [Fact]
    public async Task ChatCompletions_GatewayKey_IsSwappedForTheUpstreamKeyWhichNeverComesBack()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { ApiKey = UpstreamKey, LatencyMs = 0, RequestsPerMinute = 0 }, Keys(accountLimit: 2));

        using var ok = await silo.PostChatAsync("hello", key: KeyA);
        using var failed = await silo.PostChatAsync("[fail:401] hello", key: KeyA);
        using var status = await silo.Http.GetAsync($"api/limiters/{GatewaySilo.Limiter}");
        using var metrics = await silo.Http.GetAsync("metrics");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode); // the simulator accepts only the upstream key
        Assert.Equal(0, silo.Simulator.GetStats().Unauthorized);
        foreach (var response in new[] { ok, failed, status, metrics })
        {
            var text = await response.Content.ReadAsStringAsync() + string.Join(' ', response.Headers.SelectMany(h => h.Value));
            Assert.DoesNotContain(UpstreamKey, text);
            Assert.DoesNotContain(KeyA, text);
        }
    }

    [Fact]
    public async Task Metrics_AfterRequestsOfTwoKeys_ShowRequestsAndTokensPerTenant()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { ApiKey = UpstreamKey, LatencyMs = 0 }, Keys(accountLimit: 2));
        await silo.Chat(KeyA).CompleteChatAsync(new UserChatMessage("one two three"));
        await silo.Chat(KeyA).CompleteChatAsync(new UserChatMessage("one two three"));
        await silo.Chat(KeyB).CompleteChatAsync(new UserChatMessage("x"));

        // The exporter collects on scrape: poll until this silo's counters are in.
        string scrape = string.Empty;
        Assert.True(await GatewaySilo.EventuallyAsync(
            async () => (scrape = await silo.Http.GetStringAsync("metrics")).Contains("tenant=\"team-b\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)));

        Assert.Matches("floodgate_gateway_requests_total\\{[^}]*outcome=\"completed\"[^}]*tenant=\"team-a\"[^}]*upstream=\"sim\"[^}]*\\} 2", scrape);
        Assert.Matches("floodgate_gateway_tokens_total\\{[^}]*tenant=\"team-a\"[^}]*\\} 18", scrape); // 2 × (3 + 6)
        Assert.DoesNotContain(KeyA, scrape);
    }
}
