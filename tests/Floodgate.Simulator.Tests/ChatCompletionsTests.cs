using System.Net;
using System.Text.Json;

namespace Floodgate.Simulator.Tests;

public sealed class ChatCompletionsTests
{
    private static SimulatorOptions Fast(int maxConcurrency = 10) => new() { LatencyMs = 50, MaxConcurrency = maxConcurrency };

    [Fact]
    public async Task ChatCompletions_ValidRequest_ReturnsOpenAiShapedCompletion()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.Http.PostAsync("v1/chat/completions", TestSimulator.ChatBody("What is a floodgate?", model: "gpt-test"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        JsonElement body = await TestSimulator.ReadJsonAsync(response);
        Assert.StartsWith("chatcmpl-sim-", body.GetProperty("id").GetString());
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.True(body.GetProperty("created").GetInt64() > 0);
        Assert.Equal("gpt-test", body.GetProperty("model").GetString());

        JsonElement choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Simulated answer to: What is a floodgate?", choice.GetProperty("message").GetProperty("content").GetString());

        JsonElement usage = body.GetProperty("usage");
        Assert.Equal(3 + 4, usage.GetProperty("prompt_tokens").GetInt32()); // system + user words
        Assert.Equal(7, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(14, usage.GetProperty("total_tokens").GetInt32());

        Assert.Equal(new SimulatorStats(1, 1, 0, 0, 0, 0, 0, 1), sim.Server.GetStats());
    }

    [Fact]
    public async Task ChatCompletions_NoModel_ReportsSimulatedModelAndDistinctIds()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var first = await sim.ChatAsync("one");
        using var second = await sim.ChatAsync("two");

        JsonElement a = await TestSimulator.ReadJsonAsync(first);
        JsonElement b = await TestSimulator.ReadJsonAsync(second);
        Assert.Equal("simulated-model", a.GetProperty("model").GetString());
        Assert.NotEqual(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
    }

    [Fact]
    public async Task ChatCompletions_ContentParts_AnswersTextOfLastUserMessage()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.PostRawAsync("""
            {"messages":[{"role":"user","content":"old"},{"role":"assistant","content":null},
             {"role":"user","content":[{"type":"text","text":"new question"},{"type":"image_url","image_url":{"url":"x"}}]}]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = await TestSimulator.ReadJsonAsync(response);
        Assert.Equal(
            "Simulated answer to: new question",
            body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("""{"model":"m"}""")]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"messages":"hello"}""")]
    [InlineData("""{"messages":[{"content":"no role"}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":42}]}""")]
    public async Task ChatCompletions_InvalidBody_Returns400InvalidRequestError(string json)
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.PostRawAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await TestSimulator.ReadJsonAsync(response)).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));

        SimulatorStats stats = sim.Server.GetStats();
        Assert.Equal(1, stats.ClientErrors);
        Assert.Equal(1, stats.TotalRequests);
        Assert.Equal(0, stats.Completed);
        Assert.Equal(0, stats.CurrentConcurrent);
    }

    [Fact]
    public async Task ChatCompletions_ErrorRateOne_Returns500ServerError()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, ErrorRate = 1 });

        using var response = await sim.ChatAsync("hello");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("server_error", await TestSimulator.ErrorTypeAsync(response));
        Assert.Equal(1, sim.Server.GetStats().ServerErrors);
    }

    [Fact]
    public async Task ChatCompletions_SameSeedAndErrorRate_FailsTheSameRequests()
    {
        static async Task<string> RunAsync()
        {
            await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, ErrorRate = 0.5, Seed = 7 });
            var pattern = new System.Text.StringBuilder();
            for (int i = 0; i < 20; i++)
            {
                using var response = await sim.ChatAsync("hello " + i);
                pattern.Append(response.IsSuccessStatusCode ? '.' : 'x');
            }

            return pattern.ToString();
        }

        string first = await RunAsync();
        string second = await RunAsync();

        Assert.Equal(first, second);
        Assert.Contains('x', first);
        Assert.Contains('.', first);
    }

    [Fact]
    public async Task Health_Always_ReturnsOk()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.Http.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await TestSimulator.ReadJsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task StartAsync_PortZero_ReportsBoundAddress()
    {
        await using var server = await SimulatorServer.StartAsync(Fast());

        Assert.Equal("http", server.BaseUrl.Scheme);
        Assert.Equal("127.0.0.1", server.BaseUrl.Host);
        Assert.NotEqual(0, server.BaseUrl.Port);
        Assert.EndsWith("/", server.BaseUrl.AbsoluteUri);
    }

    [Fact]
    public async Task DisposeAsync_CalledTwice_DoesNotThrow()
    {
        var server = await SimulatorServer.StartAsync(Fast());

        await server.DisposeAsync();
        await server.DisposeAsync();
    }
}
