using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Gateway.Admission;
using Floodgate.Gateway.Forwarding;
using Floodgate.Gateway.Usage;
using Floodgate.Limiting;

namespace Floodgate.Gateway.Tests;

/// <summary>The gateway's plain parts: usage scanners, rate-limit headers, the token estimate.</summary>
public sealed class GatewayPartsTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void JsonUsageScanner_BodyInChunksOfAnySize_FindsTheTopLevelUsage(int chunkSize)
    {
        var body = Encoding.UTF8.GetBytes("""
            {"id":"x","data":[{"embedding":[0.25,-1.5e-3],"usage":{"total_tokens":999}}],
             "model":"m","usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}
            """);
        var scanner = new JsonUsageScanner();

        foreach (var chunk in body.Chunk(chunkSize))
        {
            scanner.Feed(chunk);
        }

        Assert.Equal(new TokenUsage(12, 30, 42), scanner.Usage);
    }

    [Fact]
    public void JsonUsageScanner_NoUsageOrNotJson_IsNull()
    {
        var none = new JsonUsageScanner();
        none.Feed("""{"choices":[],"usage":null}"""u8);
        var garbage = new JsonUsageScanner();
        garbage.Feed("<html>bad gateway</html>"u8);

        Assert.Null(none.Usage);
        Assert.Null(garbage.Usage);
    }

    [Fact]
    public void SseUsageScanner_EventsSplitAcrossWrites_FindsTheUsageChunk()
    {
        var stream = Encoding.UTF8.GetBytes(
            "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n" +
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\r\n\r\n" +
            "data: [DONE]\n\n");
        var scanner = new SseUsageScanner();

        foreach (var chunk in stream.Chunk(5))
        {
            scanner.Feed(chunk);
        }

        Assert.Equal(new TokenUsage(3, 2, 5), scanner.Usage);
        Assert.Equal(2, scanner.Events);
    }

    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("6m0s", 360_000)]
    [InlineData("1h2m3.5s", 3_723_500)]
    [InlineData("20ms", 20)]
    [InlineData("2.5", 2500)]
    public void Duration_OpenAiResetFormats_AreParsed(string value, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), RateLimitHeaders.Duration(value));

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("5x")]
    [InlineData("-3")]
    public void Duration_Garbage_IsNull(string value) => Assert.Null(RateLimitHeaders.Duration(value));

    [Fact]
    public void Read_RateLimitedResponse_CarriesRetryAfterAndWindows()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.Add("Retry-After", "7");
        response.Headers.Add("x-ratelimit-remaining-requests", "0");
        response.Headers.Add("x-ratelimit-reset-requests", "1s");
        response.Headers.Add("x-ratelimit-remaining-tokens", "5000");
        response.Headers.Add("x-ratelimit-reset-tokens", "30ms");

        var signal = RateLimitHeaders.Read(response, Now);

        Assert.Equal(new UpstreamSignal(TimeSpan.FromSeconds(7), 0, TimeSpan.FromSeconds(1), 5000, TimeSpan.FromMilliseconds(30)), signal);
        Assert.Equal(TimeSpan.FromSeconds(7), signal!.RequiredPause());
    }

    [Fact]
    public void Read_RetryAfterAsDateOrMilliseconds_IsAWait()
    {
        using var dated = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        dated.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(Now.AddSeconds(4));
        using var precise = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        precise.Headers.Add("retry-after-ms", "250");
        using var plain = new HttpResponseMessage(HttpStatusCode.OK);

        Assert.Equal(TimeSpan.FromSeconds(4), RateLimitHeaders.Read(dated, Now)!.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(250), RateLimitHeaders.Read(precise, Now)!.RetryAfter);
        Assert.Null(RateLimitHeaders.Read(plain, Now));
    }

    [Fact]
    public void Parse_Chat_EstimatesPromptPlusMaxTokensPerChoice()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"model":"gpt","messages":[{"role":"system","content":"12345678"},{"role":"user","content":[{"type":"text","text":"abcdefghijkl"}]}],
             "max_tokens":100,"n":2}
            """);

        var request = OpenAiRequest.Parse(OpenAiEndpoint.ChatCompletions, body, defaultMaxTokens: 256, out var error);

        Assert.Null(error);
        Assert.Equal("gpt", request.Model);
        Assert.Equal((4 + 2) + (4 + 3) + (2 * 100), request.EstimatedTokens);
        Assert.Same(body, request.Body);
    }

    [Fact]
    public void Parse_StreamedChatWithoutStreamOptions_AsksForTheUsageChunk()
    {
        var body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"hi"}],"stream":true}""");

        var request = OpenAiRequest.Parse(OpenAiEndpoint.ChatCompletions, body, 10, out _);

        Assert.True(request.Stream);
        Assert.True(JsonDocument.Parse(request.Body).RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public void Parse_EmbeddingsOfTokenArrays_CountsPromptOnly()
    {
        var body = Encoding.UTF8.GetBytes("""{"input":[[1,2,3],[4]],"model":"e"}""");

        var request = OpenAiRequest.Parse(OpenAiEndpoint.Embeddings, body, 256, out _);

        Assert.Equal(4, request.EstimatedTokens);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("\"text\"")]
    public void Parse_NotAJsonObject_IsAnError(string body)
    {
        OpenAiRequest.Parse(OpenAiEndpoint.ChatCompletions, Encoding.UTF8.GetBytes(body), 256, out var error);

        Assert.NotNull(error);
    }
}
