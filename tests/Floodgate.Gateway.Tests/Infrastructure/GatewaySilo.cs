using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text;
using Floodgate.Client;
using Floodgate.Limiting;
using Floodgate.Silo.Hosting;
using Floodgate.Simulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Floodgate.Gateway.Tests.Infrastructure;

/// <summary>
/// A real silo (the <c>Silo</c> host, HTTP on a free loopback port) whose gateway forwards to an embedded simulator
/// (upstream <c>sim</c>, limiter <c>gateway:sim</c>), with clients for both.
/// </summary>
public sealed class GatewaySilo : IAsyncDisposable
{
    public const string Limiter = "gateway:sim";

    private readonly WebApplication _app;

    private GatewaySilo(WebApplication app, SimulatorServer simulator)
    {
        _app = app;
        Simulator = simulator;
        BaseUrl = new Uri(app.Urls.First().TrimEnd('/') + "/");
        Http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    public SimulatorServer Simulator { get; }

    public Uri BaseUrl { get; }

    public HttpClient Http { get; }

    public IFloodgateClient Floodgate => _app.Services.GetRequiredService<IFloodgateClient>();

    /// <summary>Starts the simulator, then a silo whose upstream <c>sim</c> points at it, with <paramref name="settings"/> on top.</summary>
    public static async Task<GatewaySilo> StartAsync(SimulatorOptions simulator, IDictionary<string, string?>? settings = null)
    {
        var server = await SimulatorServer.StartAsync(simulator);
        var all = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
            ["Floodgate:Silo:SiloPort"] = FreeTcpPort.Next().ToString(),
            ["Floodgate:Silo:GatewayPort"] = FreeTcpPort.Next().ToString(),
            ["Floodgate:Silo:ClusterId"] = "gateway-tests-" + Guid.NewGuid().ToString("N")[..8],
            ["Floodgate:Silo:Dashboard"] = "false",
            ["Floodgate:Silo:WarmUp:Enabled"] = "false", // used at once, not about speed: no start-up warm-up
            ["Floodgate:Gateway:Upstreams:sim:BaseUrl"] = server.BaseUrl.ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = FloodgateSiloHost.Build([], all);
        await app.StartAsync();
        return new GatewaySilo(app, server);
    }

    /// <summary>The official OpenAI client's options pointed at this gateway (no client-side retries: the tests count calls).</summary>
    public OpenAIClientOptions ClientOptions(string? upstreamRoute = null) => new()
    {
        Endpoint = new Uri(BaseUrl, upstreamRoute is null ? "v1" : $"upstreams/{upstreamRoute}/v1"),
        RetryPolicy = new ClientRetryPolicy(0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    };

    public ChatClient Chat(string key = "no-key-needed", string? upstreamRoute = null) =>
        new("sim-model", new ApiKeyCredential(key), ClientOptions(upstreamRoute));

    public EmbeddingClient Embeddings(string key = "no-key-needed") =>
        new("sim-embedding", new ApiKeyCredential(key), ClientOptions());

    public Task<LimiterStatus> StatusAsync(string limiter = Limiter) => Floodgate.GetLimiterStatusAsync(limiter);

    /// <summary>A raw chat request (for what the OpenAI client hides: status codes, headers, bodies).</summary>
    public Task<HttpResponseMessage> PostChatAsync(string prompt, string? key = null, bool stream = false, string path = "v1/chat/completions", HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new
        {
            model = "sim-model",
            messages = new[] { new { role = "user", content = prompt } },
            stream,
            max_tokens = 50,
        });
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return Http.SendAsync(request, completion, cancellationToken);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="within"/> passes (never a timing assertion: a bound).</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(25);
        }

        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
