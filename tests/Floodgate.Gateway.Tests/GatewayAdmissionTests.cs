using System.ClientModel;
using System.Net;
using System.Text.Json;
using Floodgate.Gateway.Tests.Infrastructure;
using Floodgate.Simulator;
using OpenAI.Chat;

namespace Floodgate.Gateway.Tests;

/// <summary>
/// The gateway driven by the official OpenAI .NET client against the simulator: the limit holds at the simulator, every
/// answer arrives intact, streams pass through, permits come back at once, queue timeouts are 429s.
/// </summary>
public sealed class GatewayAdmissionTests
{
    [Fact]
    public async Task ChatCompletions_100ConcurrentOpenAiClientRequestsUnderALimitOf10_SimulatorNeverSeesMoreThan10AndEveryAnswerIsIntact()
    {
        await using var silo = await GatewaySilo.StartAsync(
            new SimulatorOptions { MaxConcurrency = 10, LatencyMs = 50, LatencyJitterMs = 50 },
            new Dictionary<string, string?> { ["Floodgate:Gateway:Upstreams:sim:MaxConcurrency"] = "10" });
        var chat = silo.Chat();

        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
            (i, (await chat.CompleteChatAsync(new UserChatMessage($"question {i}"))).Value)));

        var stats = silo.Simulator.GetStats();
        Assert.True(stats.MaxConcurrent <= 10, $"the simulator saw {stats.MaxConcurrent} requests at once");
        Assert.Equal(0, stats.RateLimited);
        Assert.Equal(100, stats.Completed);
        Assert.All(answers, a => Assert.Equal($"Simulated answer to: question {a.i}", a.Value.Content.Single().Text));
        Assert.All(answers, a => Assert.Equal(2 + 5, a.Value.Usage.TotalTokenCount));
        Assert.True(await GatewaySilo.EventuallyAsync(async () => (await silo.StatusAsync()).InUse == 0, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ChatCompletionsStreaming_OpenAiClient_ReceivesEveryChunkAndTheUsageIsChargedToTheTenant()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 0, StreamChunkDelayMs = 5 });
        var chat = silo.Chat();

        var text = new System.Text.StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream these few words please")]))
        {
            updates++;
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            usage = update.Usage ?? usage;
        }

        Assert.Equal("Simulated answer to: stream these few words please", text.ToString());
        Assert.True(updates >= 8, $"{updates} updates: the answer must arrive chunk by chunk");
        Assert.NotNull(usage); // the gateway asked for the usage chunk on the client's behalf
        var tenant = Assert.Single((await silo.StatusAsync()).Usage);
        Assert.Equal(("open", 1L, (long)usage.TotalTokenCount), (tenant.Holder, tenant.Requests, tenant.Tokens));
        Assert.Equal(silo.Simulator.GetTokenStats().TokensUsed, tenant.Tokens);
        Assert.Equal(0, (await silo.StatusAsync()).InUse);
    }

    [Fact]
    public async Task Embeddings_OpenAiClient_ReturnsOneVectorPerInputAndCountsTheTokens()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 0 });

        var result = (await silo.Embeddings().GenerateEmbeddingsAsync(["first input", "the second input"])).Value;

        Assert.Equal(2, result.Count);
        Assert.All(result, e => Assert.Equal(1.0, Math.Sqrt(e.ToFloats().ToArray().Sum(x => (double)x * x)), 3));
        Assert.Equal(5, result.Usage.InputTokenCount);
        Assert.Equal(5, Assert.Single((await silo.StatusAsync()).Usage).Tokens);
        Assert.Equal(1, silo.Simulator.GetStats().Completed);
    }

    [Fact]
    public async Task ChatCompletionsStreaming_ClientDisconnectsMidStream_PermitIsFreedAtOnceNotAfterItsTtl()
    {
        await using var silo = await GatewaySilo.StartAsync(new SimulatorOptions { LatencyMs = 0, StreamChunkDelayMs = 100 });
        var longPrompt = string.Join(' ', Enumerable.Repeat("word", 300)); // a 30 s stream

        using (var response = await silo.PostChatAsync(longPrompt, stream: true, completion: HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            Assert.Equal(1, (await silo.StatusAsync()).InUse);
        }

        // The lease TTL is 60 s: a permit back within a few seconds was released, not expired.
        Assert.True(await GatewaySilo.EventuallyAsync(async () => (await silo.StatusAsync()).InUse == 0, TimeSpan.FromSeconds(10)));
        Assert.Equal(0, (await silo.StatusAsync()).Expirations);
        Assert.True(await GatewaySilo.EventuallyAsync(() => Task.FromResult(silo.Simulator.GetStats().CurrentConcurrent == 0), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ChatCompletions_NoPermitWithinMaxQueueTime_Answers429WithRetryAfterAndAnOpenAiErrorBody()
    {
        await using var silo = await GatewaySilo.StartAsync(
            new SimulatorOptions { LatencyMs = 0, StreamChunkDelayMs = 100 },
            new Dictionary<string, string?>
            {
                ["Floodgate:Gateway:Upstreams:sim:MaxConcurrency"] = "1",
                ["Floodgate:Gateway:MaxQueueTime"] = "00:00:01",
            });
        using var holding = await silo.PostChatAsync(string.Join(' ', Enumerable.Repeat("w", 100)), stream: true, completion: HttpCompletionOption.ResponseHeadersRead);

        using var refused = await silo.PostChatAsync("no room");
        var official = await Assert.ThrowsAsync<ClientResultException>(() => silo.Chat().CompleteChatAsync(new UserChatMessage("no room either")));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("gateway:sim", error.GetProperty("message").GetString());
        Assert.Equal(429, official.Status);
        Assert.Equal(1, silo.Simulator.GetStats().TotalRequests); // only the one holding the permit reached the upstream
        Assert.Equal(2, Assert.Single((await silo.StatusAsync()).Usage).Rejected);
    }
}
