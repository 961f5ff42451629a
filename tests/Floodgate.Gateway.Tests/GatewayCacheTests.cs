using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Floodgate.Gateway.Admission;
using Floodgate.Gateway.Caching;
using Floodgate.Gateway.Tests.Infrastructure;
using Floodgate.Simulator;
using OpenAI.Chat;

namespace Floodgate.Gateway.Tests;

/// <summary>
/// The shared cache behind the gateway (<c>Floodgate:Gateway:Keys:{n}:Cache</c>): identical deterministic requests of a
/// key with the cache on cost one upstream call, counted by the simulator; everything else reaches the upstream.
/// </summary>
public sealed class GatewayCacheTests
{
    private const string CachedKey = "gw-cached-0123456789abcdef";
    private const string PlainKey = "gw-plain-0123456789abcdef";

    private static readonly ChatCompletionOptions Deterministic = new() { Temperature = 0f, MaxOutputTokenCount = 50 };

    private static Dictionary<string, string?> Keys() => new()
    {
        ["Floodgate:Gateway:Keys:0:Key"] = CachedKey,
        ["Floodgate:Gateway:Keys:0:Tenant"] = "cached",
        ["Floodgate:Gateway:Keys:0:Cache"] = "true",
        ["Floodgate:Gateway:Keys:1:Key"] = PlainKey,
        ["Floodgate:Gateway:Keys:1:Tenant"] = "plain",
    };

    [Fact]
    public async Task ChatCompletions_20ConcurrentIdenticalDeterministicRequestsOfACachedKey_OneUpstreamCallAndIdenticalAnswers()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 300 }, Keys());
        var chat = silo.Chat(CachedKey);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            (await chat.CompleteChatAsync([new UserChatMessage("what is a cache?")], Deterministic)).Value));

        Assert.Equal(1, silo.Simulator.GetStats().TotalRequests);
        Assert.Single(answers.Select(a => (a.Id, a.Content.Single().Text, a.Usage.TotalTokenCount)).Distinct());
        Assert.Equal("Simulated answer to: what is a cache?", answers[0].Content.Single().Text);
        Assert.Equal(1, Assert.Single((await silo.StatusAsync()).Usage).Requests); // hits take no permit
        Assert.Equal(0, (await silo.StatusAsync()).InUse);

        // Later, the same request is still served from the cache.
        var later = (await chat.CompleteChatAsync([new UserChatMessage("what is a cache?")], Deterministic)).Value;
        Assert.Equal(answers[0].Id, later.Id);
        Assert.Equal(1, silo.Simulator.GetStats().TotalRequests);

        // Raw: a hit is a 200 JSON answer marked as such, byte for byte what the leader got.
        using var first = await PostAsync(silo, CachedKey, "v1/chat/completions", ChatBody("raw question", temperature: 0));
        using var hit = await PostAsync(silo, CachedKey, "v1/chat/completions", ChatBody("raw question", temperature: 0));
        Assert.False(first.Headers.Contains(GatewayResponseCache.Header));
        Assert.Equal(System.Net.HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal("application/json", hit.Content.Headers.ContentType?.MediaType);
        Assert.Equal("hit", Assert.Single(hit.Headers.GetValues(GatewayResponseCache.Header)));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await hit.Content.ReadAsStringAsync());
        Assert.Equal(2, silo.Simulator.GetStats().TotalRequests);
    }

    [Fact]
    public async Task Embeddings_ConcurrentIdenticalRequestsOfACachedKey_OneUpstreamCallAndEqualVectors()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 300 }, Keys());
        var embeddings = silo.Embeddings(CachedKey);

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
            (await embeddings.GenerateEmbeddingsAsync(["one input", "another input"])).Value));

        Assert.Equal(1, silo.Simulator.GetStats().TotalRequests);
        Assert.All(results, r => Assert.Equal(results[0][1].ToFloats().ToArray(), r[1].ToFloats().ToArray()));
    }

    [Fact]
    public async Task ChatCompletions_NonDeterministicRequestOrAKeyWithoutTheOption_EveryRequestReachesTheUpstream()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 100 }, Keys());
        var warm = new ChatCompletionOptions { Temperature = 0.7f, MaxOutputTokenCount = 50 };

        // The plain key first: it must not write the cache, so the cached key's first request still reaches the upstream.
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => silo.Chat(PlainKey).CompleteChatAsync([new UserChatMessage("same question")], Deterministic)));
        Assert.Equal(5, silo.Simulator.GetStats().TotalRequests);
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => silo.Chat(CachedKey).CompleteChatAsync([new UserChatMessage("same question")], warm)));
        Assert.Equal(10, silo.Simulator.GetStats().TotalRequests);
        await silo.Chat(CachedKey).CompleteChatAsync([new UserChatMessage("same question")], Deterministic);
        Assert.Equal(11, silo.Simulator.GetStats().TotalRequests);

        // Now cached for the cached key, the plain key still never reads it.
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => silo.Chat(PlainKey).CompleteChatAsync([new UserChatMessage("same question")], Deterministic)));
        Assert.Equal(16, silo.Simulator.GetStats().TotalRequests);
        await silo.Chat(CachedKey).CompleteChatAsync([new UserChatMessage("same question")], Deterministic);
        Assert.Equal(16, silo.Simulator.GetStats().TotalRequests);
    }

    [Fact]
    public async Task ChatCompletionsStreaming_DeterministicRequestOfACachedKey_IsNeverCached()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 0, StreamChunkDelayMs = 1 }, Keys());
        var chat = silo.Chat(CachedKey);

        for (var i = 1; i <= 3; i++)
        {
            var text = new StringBuilder();
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream me")], Deterministic))
            {
                text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            }

            Assert.Equal("Simulated answer to: stream me", text.ToString());
            Assert.Equal(i, silo.Simulator.GetStats().TotalRequests);
        }
    }

    [Fact]
    public async Task ChatCompletions_UpstreamErrorForACachedKey_IsNotCached()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 0 }, Keys());
        var body = ChatBody("[fail:500] please", temperature: 0);

        for (var i = 1; i <= 3; i++)
        {
            using var failed = await PostAsync(silo, CachedKey, "v1/chat/completions", body);
            Assert.Equal(System.Net.HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.False(failed.Headers.Contains(GatewayResponseCache.Header));
        }

        Assert.Equal((3L, 3L), (silo.Simulator.GetStats().TotalRequests, silo.Simulator.GetStats().ServerErrors));
    }

    [Theory]
    [InlineData("""{"messages":[],"temperature":0}""", true)]
    [InlineData("""{"messages":[],"temperature":0.0,"n":1,"stream":false}""", true)]
    [InlineData("""{"messages":[]}""", false)] // absent: the provider's default of 1
    [InlineData("""{"messages":[],"temperature":0.7}""", false)]
    [InlineData("""{"messages":[],"temperature":0,"n":2}""", false)]
    [InlineData("""{"messages":[],"temperature":0,"stream":true}""", false)]
    [InlineData("""{"messages":[],"temperature":"0"}""", false)]
    public void Parse_Chat_IsDeterministicOnlyAtTemperatureZeroWithOneChoiceAndNoStream(string body, bool deterministic) =>
        Assert.Equal(deterministic, OpenAiRequest.Parse(OpenAiEndpoint.ChatCompletions, Encoding.UTF8.GetBytes(body), 256, out _).Deterministic);

    [Fact]
    public void Parse_Embeddings_AreAlwaysDeterministic() =>
        Assert.True(OpenAiRequest.Parse(OpenAiEndpoint.Embeddings, """{"input":"x","model":"e"}"""u8.ToArray(), 256, out _).Deterministic);

    [Fact]
    public void Key_SameBodyInAnotherPropertyOrder_SameKey_OtherUpstreamOrEndpoint_OtherKey()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","input":"x"}""");
        var reordered = Encoding.UTF8.GetBytes("""{ "input": "x", "model": "m" }""");

        var key = GatewayResponseCache.Key("sim", OpenAiEndpoint.Embeddings, body);

        Assert.Equal(key, GatewayResponseCache.Key("sim", OpenAiEndpoint.Embeddings, reordered));
        Assert.NotEqual(key, GatewayResponseCache.Key("other", OpenAiEndpoint.Embeddings, body));
        Assert.NotEqual(key, GatewayResponseCache.Key("sim", OpenAiEndpoint.Completions, body));
    }

    private static string ChatBody(string prompt, double temperature) => JsonSerializer.Serialize(new
    {
        model = "sim-model",
        messages = new[] { new { role = "user", content = prompt } },
        temperature,
        max_tokens = 50,
    });

    private static Task<HttpResponseMessage> PostAsync(GatewaySilo silo, string key, string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return silo.Http.SendAsync(request);
    }
}
