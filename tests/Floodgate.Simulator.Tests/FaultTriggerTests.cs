using System.Net;

namespace Floodgate.Simulator.Tests;

public sealed class FaultTriggerTests
{
    private static SimulatorOptions Fast() => new() { LatencyMs = 50 };

    [Fact]
    public async Task ChatCompletions_Fail400Trigger_Returns400CountedAsClientError()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        using var response = await sim.ChatAsync("please [fail:400] now");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", await TestSimulator.ErrorTypeAsync(response));
        SimulatorStats stats = sim.Server.GetStats();
        Assert.Equal(1, stats.ClientErrors);
        Assert.Equal(0, stats.ServerErrors);
        Assert.Equal(1, stats.TotalRequests);
    }

    [Fact]
    public async Task ChatCompletions_Fail500Trigger_AlwaysReturns500CountedAsServerError()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());

        for (int i = 0; i < 3; i++)
        {
            using var response = await sim.ChatAsync("[fail:500]", idempotencyKey: "same");
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("server_error", await TestSimulator.ErrorTypeAsync(response));
        }

        Assert.Equal(3, sim.Server.GetStats().ServerErrors);
    }

    [Fact]
    public async Task ChatCompletions_Fail429Trigger_Returns429WithRetryAfter()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, RetryAfterSeconds = 3 });

        using var response = await sim.ChatAsync("[fail:429]");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
        Assert.Equal("rate_limit_exceeded", await TestSimulator.ErrorTypeAsync(response));
        Assert.Equal(1, sim.Server.GetStats().RateLimited);
    }

    [Fact]
    public async Task ChatCompletions_Fail503Trigger_Returns503WithoutRetryAfter()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0 });

        using var response = await sim.ChatAsync("[fail:503]");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal(1, sim.Server.GetStats().ServerErrors);
    }

    [Fact]
    public async Task ChatCompletions_FailFirstWithIdempotencyKey_FailsFirstAttemptsOfThatKeyOnly()
    {
        await using var sim = await TestSimulator.StartAsync(Fast());
        const string Prompt = "[fail-first:2:500] summarise";

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 4; i++)
        {
            using var response = await sim.ChatAsync(Prompt, idempotencyKey: "key-A");
            statuses.Add(response.StatusCode);
        }

        using var otherKey = await sim.ChatAsync(Prompt, idempotencyKey: "key-B");

        Assert.Equal(
            [HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.OK, HttpStatusCode.OK],
            statuses);
        Assert.Equal(HttpStatusCode.InternalServerError, otherKey.StatusCode);
        SimulatorStats stats = sim.Server.GetStats();
        Assert.Equal(3, stats.ServerErrors);
        Assert.Equal(2, stats.Completed);
    }

    [Fact]
    public async Task ChatCompletions_FailFirstWithoutIdempotencyKey_KeysByPrompt()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0 });

        using var first = await sim.ChatAsync("[fail-first:1:429] alpha");
        using var otherPrompt = await sim.ChatAsync("[fail-first:1:429] beta");
        using var second = await sim.ChatAsync("[fail-first:1:429] alpha");

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.NotNull(first.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.TooManyRequests, otherPrompt.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Theory]
    [InlineData("[fail:200]")]
    [InlineData("[fail:600]")]
    [InlineData("[fail-first:1:302]")]
    public async Task ChatCompletions_TriggerStatusOutOfRange_Returns400(string prompt)
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0 });

        using var response = await sim.ChatAsync(prompt);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", await TestSimulator.ErrorTypeAsync(response));
    }

    [Fact]
    public async Task ChatCompletions_TriggerOnRequestOverConcurrencyLimit_IsRejectedBeforeTrigger()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { MaxConcurrency = 1, LatencyMs = 1500 });
        (await sim.Http.GetAsync("health")).Dispose();

        Task<HttpResponseMessage> holder = sim.ChatAsync("hold the only slot");
        while (sim.Server.GetStats().CurrentConcurrent == 0)
        {
            await Task.Delay(10);
        }

        using var triggered = await sim.ChatAsync("[fail:500]");
        using var held = await holder;

        Assert.Equal(HttpStatusCode.TooManyRequests, triggered.StatusCode);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
    }
}
