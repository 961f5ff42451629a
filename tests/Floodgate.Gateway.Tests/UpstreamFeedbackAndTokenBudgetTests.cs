using System.Net;
using System.Text.Json;
using Floodgate.Gateway.Tests.Infrastructure;
using Floodgate.Simulator;
using OpenAI.Chat;

namespace Floodgate.Gateway.Tests;

/// <summary>The upstream's pushback reaching the limiter, the tokens-per-minute budget, routing and bad input.</summary>
public sealed class UpstreamFeedbackAndTokenBudgetTests
{
    [Fact]
    public async Task ChatCompletions_UpstreamAnswers429WithRetryAfter_ClusterPausesAndHalvesThenCallsGoThroughAgain()
    {
        await using var silo = await GatewaySilo.StartAsync(
            new SimulatorOptions { LatencyMs = 0, RetryAfterSeconds = 2 },
            new Dictionary<string, string?> { ["Floodgate:Gateway:Upstreams:sim:MaxConcurrency"] = "8" });

        using var pushedBack = await silo.PostChatAsync("[fail:429] too fast");
        var status = await silo.StatusAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, pushedBack.StatusCode); // passed through as the upstream said it
        Assert.NotNull(status.PausedUntil);
        Assert.Equal(1, status.EffectiveMaxConcurrency);
        Assert.Equal(1, Assert.Single(status.Usage).UpstreamRateLimited);

        // The next call waits out the pause instead of hitting the upstream during it.
        using var next = await silo.PostChatAsync("calm now");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(1, silo.Simulator.GetStats().RateLimited);
    }

    [Fact]
    public async Task ChatCompletions_TokenBudgetOfTheUpstream_SimulatorNeverSeesMoreTokensPerMinuteThanItAllows()
    {
        // Each call: 3 prompt + 6 completion tokens at the simulator; estimated (prompt + max_tokens 50) well above.
        await using var silo = await GatewaySilo.StartAsync(
            new SimulatorOptions { LatencyMs = 20, TokensPerMinute = 400 },
            new Dictionary<string, string?>
            {
                ["Floodgate:Gateway:Upstreams:sim:TokensPerMinute"] = "400",
                ["Floodgate:Gateway:MaxQueueTime"] = "00:00:02",
            });

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => silo.PostChatAsync($"tokens {i} here")));

        var tokens = silo.Simulator.GetTokenStats();
        Assert.True(tokens.MaxTokensPerMinute <= 400, $"{tokens.MaxTokensPerMinute} tokens in a minute");
        Assert.Equal(0, silo.Simulator.GetStats().RateLimited);
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
        var status = await silo.StatusAsync();
        Assert.Equal(320, status.TokenBudget); // 400 × the 0.8 safety factor
        Assert.Equal(tokens.TokensUsed, status.Usage.Single().Tokens);
    }

    [Fact]
    public async Task Routing_NamedUpstreamByRouteOrHeader_ReachesItAndAnUnknownOneIs404()
    {
        await using var silo = await GatewaySilo.StartAsync(
            new SimulatorOptions { LatencyMs = 0 },
            new Dictionary<string, string?>
            {
                ["Floodgate:Gateway:Upstreams:other:BaseUrl"] = "http://127.0.0.1:9/",
                ["Floodgate:Gateway:DefaultUpstream"] = "other",
            });

        var byRoute = await silo.Chat(upstreamRoute: "sim").CompleteChatAsync(new UserChatMessage("via route"));
        using var byHeader = new HttpRequestMessage(HttpMethod.Get, "v1/models") { Headers = { { "X-Floodgate-Upstream", "sim" } } };
        using var models = await silo.Http.SendAsync(byHeader);
        using var unknown = await silo.PostChatAsync("hello", path: "upstreams/nope/v1/chat/completions");

        Assert.Equal("Simulated answer to: via route", byRoute.Value.Content[0].Text);
        Assert.Equal("simulated-model", JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(0, (await silo.StatusAsync()).InUse);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    public async Task ChatCompletions_BodyThatIsNotAJsonObject_Answers400AndTakesNoPermit(string body)
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 0 });

        using var response = await silo.Http.PostAsync("v1/chat/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(0, silo.Simulator.GetStats().TotalRequests);
        Assert.Equal(0, (await silo.StatusAsync()).Grants);
    }
}
