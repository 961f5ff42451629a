using Floodgate.Silo.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Floodgate.Tests.Draining;

public sealed class StoppingGateTests
{
    [Theory]
    [InlineData("POST", "/api/batches", true)]
    [InlineData("POST", "/api/batches/", true)]
    [InlineData("POST", "/api/limiters/openai/leases", true)]
    [InlineData("POST", "/api/batches/b1/cancel", false)]
    [InlineData("GET", "/api/batches", false)]
    [InlineData("GET", "/api/batches/b1/results", false)]
    [InlineData("DELETE", "/api/limiters/openai/leases/l1", false)]
    [InlineData("POST", "/api/limiters/openai/leases/l1/renew", false)]
    [InlineData("PUT", "/api/limiters/openai", false)]
    [InlineData("POST", "/v1/chat/completions", true)]
    [InlineData("POST", "/upstreams/b/v1/embeddings", true)]
    [InlineData("GET", "/v1/models", false)]
    public void IsNewWork_ByMethodAndPath(string method, string path, bool expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;

        Assert.Equal(expected, StoppingGate.IsNewWork(context.Request));
    }

    [Fact]
    public async Task InvokeAsync_Stopping_RefusesNewWorkWith503AndRetryAfterButServesTheRest()
    {
        var lifetime = new StoppingLifetime();
        var passed = new List<string>();
        var gate = new StoppingGate(context => { passed.Add(context.Request.Path!); return Task.CompletedTask; }, lifetime);

        var submit = await SendAsync(gate, "POST", "/api/batches");
        await lifetime.StopAsync();
        var refused = await SendAsync(gate, "POST", "/api/batches");
        var release = await SendAsync(gate, "DELETE", "/api/limiters/a/leases/l1");

        Assert.Equal(StatusCodes.Status200OK, submit.Response.StatusCode);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, refused.Response.StatusCode);
        Assert.Equal("1", refused.Response.Headers.RetryAfter.ToString());
        Assert.Equal(["/api/batches", "/api/limiters/a/leases/l1"], passed); // the submit before the stop, and the release
    }

    private static async Task<HttpContext> SendAsync(StoppingGate gate, string method, string path)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        context.Request.Method = method;
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        await gate.InvokeAsync(context);
        return context;
    }

    private sealed class StoppingLifetime : IHostApplicationLifetime
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();

        public Task StopAsync() => _stopping.CancelAsync();
    }
}
