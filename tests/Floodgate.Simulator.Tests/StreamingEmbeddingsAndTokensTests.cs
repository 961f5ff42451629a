using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Simulator.Tests;

/// <summary>What the gateway tests need of the simulator: streamed chat, embeddings, legacy completions, models, a token budget.</summary>
public sealed class StreamingEmbeddingsAndTokensTests
{
    private static SimulatorOptions Fast() => new() { LatencyMs = 0, MaxConcurrency = 10 };

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    [Fact]
    public async Task ChatCompletions_StreamWithUsage_SendsWordChunksThenUsageThenDone()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.Http.PostAsync("v1/chat/completions", Json(new
        {
            messages = new[] { new { role = "user", content = "tell me more" } },
            stream = true,
            stream_options = new { include_usage = true },
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..])
            .ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        var text = string.Concat(chunks
            .SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : string.Empty));
        Assert.Equal("Simulated answer to: tell me more", text);
        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(0, sim.Server.GetStats().CurrentConcurrent);
    }

    [Fact]
    public async Task ChatCompletions_StreamWithoutUsageOption_SendsNoUsageChunk()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.Http.PostAsync("v1/chat/completions", Json(new
        {
            messages = new[] { new { role = "user", content = "hi" } },
            stream = true,
        }));

        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"prompt_tokens\"", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
    }

    [Fact]
    public async Task ChatCompletions_ClientLeavesMidStream_RequestStopsBeingInFlight()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, StreamChunkDelayMs = 200 });
        var prompt = string.Join(' ', Enumerable.Repeat("word", 200));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = Json(new { messages = new[] { new { role = "user", content = prompt } }, stream = true }),
        };

        using (var response = await sim.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            Assert.Equal(1, sim.Server.GetStats().CurrentConcurrent);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (sim.Server.GetStats().CurrentConcurrent != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, sim.Server.GetStats().CurrentConcurrent);
    }

    [Theory]
    [InlineData("float")]
    [InlineData("base64")]
    public async Task Embeddings_TwoInputs_ReturnsDeterministicUnitVectorsAndUsage(string format)
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        async Task<JsonElement> EmbedAsync()
        {
            using var response = await sim.Http.PostAsync("v1/embeddings", Json(new { input = new[] { "one two", "three" }, model = "emb", encoding_format = format, dimensions = 4 }));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await TestSimulator.ReadJsonAsync(response);
        }

        var first = await EmbedAsync();
        var second = await EmbedAsync();

        Assert.Equal("list", first.GetProperty("object").GetString());
        Assert.Equal(3, first.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var vectors = first.GetProperty("data").EnumerateArray().Select(e => Vector(e.GetProperty("embedding"))).ToList();
        Assert.Equal(2, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 3));
        Assert.Equal(vectors[0], Vector(second.GetProperty("data")[0].GetProperty("embedding")));
        Assert.NotEqual(vectors[0], vectors[1]);
    }

    [Fact]
    public async Task Embeddings_NoInput_Returns400()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.Http.PostAsync("v1/embeddings", Json(new { model = "emb" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", await TestSimulator.ErrorTypeAsync(response));
    }

    [Fact]
    public async Task Completions_Prompt_ReturnsTextCompletionWithUsage()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.Http.PostAsync("v1/completions", Json(new { prompt = "say hi", max_tokens = 5 }));

        var body = await TestSimulator.ReadJsonAsync(response);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal("Simulated answer to: say hi", body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(2 + 5, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_Get_ListsTheSimulatedModel()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        var body = await TestSimulator.ReadJsonAsync(await sim.Http.GetAsync("v1/models"));

        Assert.Equal("simulated-model", body.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task ChatCompletions_AboveTokensPerMinute_Returns429WithTokenHeadersUntilTheWindowSlides()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, TokensPerMinute = 24 }, time);

        // System "You are terse." + "a b c" = 6 prompt tokens, answer "Simulated answer to: a b c" = 6: 12 tokens each.
        using var first = await sim.ChatAsync("a b c");
        using var second = await sim.ChatAsync("a b c");
        using var third = await sim.ChatAsync("a b c");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("0", third.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        Assert.Equal("60s", third.Headers.GetValues("x-ratelimit-reset-tokens").Single());
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.Equal(new SimulatorTokenStats(24, 24), sim.Server.GetTokenStats());

        time.Advance(TimeSpan.FromSeconds(60));
        using var later = await sim.ChatAsync("a b c");
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    private static float[] Vector(JsonElement embedding) => embedding.ValueKind == JsonValueKind.String
        ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(embedding.GetString()!)).ToArray()
        : embedding.EnumerateArray().Select(e => e.GetSingle()).ToArray();
}
