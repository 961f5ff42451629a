using Floodgate.Client;
using Floodgate.Client.Http;
using Floodgate.Grains.Hosting;
using Floodgate.Silo.Hosting;
using Floodgate.Simulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;

namespace Floodgate.Processors.Tests.Infrastructure;

/// <summary>Upstream secrets and the processor settings every fixture uses, pointing at one simulator.</summary>
public static class UpstreamSettings
{
    public const string ApiKey = "sk-proc-5e1d9c7a3b2f4e6d8a0c1b3e5f7a9d2c";

    public const string HttpSecretHeader = "Bearer sk-proc-5e1d9c7a3b2f4e6d8a0c1b3e5f7a9d2c";

    public static Dictionary<string, string?> For(Uri simulator) => new()
    {
        ["Floodgate:Processors:OpenAiChat:BaseUrl"] = simulator.ToString(),
        ["Floodgate:Processors:OpenAiChat:ApiKey"] = ApiKey,
        ["Floodgate:Processors:OpenAiEmbeddings:BaseUrl"] = simulator.ToString(),
        ["Floodgate:Processors:OpenAiEmbeddings:ApiKey"] = ApiKey,
        ["Floodgate:Processors:Replicate:BaseUrl"] = simulator.ToString(),
        ["Floodgate:Processors:Replicate:ApiToken"] = ApiKey,
        ["Floodgate:Processors:Replicate:Model"] = "black-forest-labs/flux-dev",
        ["Floodgate:Processors:Replicate:PollInterval"] = "00:00:00.050",
        ["Floodgate:Processors:Http:Endpoints:define:Url"] = new Uri(simulator, "v1/chat/completions").ToString(),
        ["Floodgate:Processors:Http:Endpoints:define:Headers:Authorization"] = HttpSecretHeader,
        ["Floodgate:Processors:Http:Endpoints:define:BodyTemplate"] = """{"model":"dictionary","max_tokens":"{maxTokens}","messages":[{"role":"user","content":"Define {word}"}]}""",
        ["Floodgate:Processors:Http:Endpoints:define:ResultField"] = "choices.0.message.content",
        ["Floodgate:Processors:Http:Endpoints:slides:Url"] = new Uri(simulator, "v1/chat/completions").ToString(),
        ["Floodgate:Processors:Http:Endpoints:slides:Headers:Authorization"] = HttpSecretHeader,
        ["Floodgate:Processors:Http:Endpoints:slides:BodyTemplate"] = """{"model":"slides","messages":[{"role":"user","content":"{summary}"}]}""",
        ["Floodgate:CircuitBreaker:FailureThreshold"] = "10",
        ["Floodgate:CircuitBreaker:BreakDuration"] = "00:01:00",
        ["Floodgate:Items:BaseDelay"] = "00:00:00.020",
        ["Floodgate:Items:MaxDelay"] = "00:00:00.100",
        ["Floodgate:Items:MaxRetryAfter"] = "00:00:00.200",
        ["Floodgate:Items:AttemptTimeout"] = "00:00:10",
    };
}

/// <summary>Two in-process silos and a simulator that requires <see cref="UpstreamSettings.ApiKey"/>; logs captured.</summary>
public sealed class ProcessorCluster : IAsyncLifetime
{
    public SimulatorServer Simulator { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IFloodgateClient Client { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public async Task InitializeAsync()
    {
        Simulator = await SimulatorServer.StartAsync(new SimulatorOptions { MaxConcurrency = 0, LatencyMs = 40, ApiKey = UpstreamSettings.ApiKey });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(UpstreamSettings.For(Simulator.BaseUrl)).Build();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
            silo.Services.AddLogging(logging => logging.AddProvider(Logs).AddFilter<LogCapture>("", LogLevel.Debug));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new FloodgateClient(Cluster.Client, Options.Create(new FloodgateClientOptions
        {
            ClientId = "processor-tests",
            WatchInterval = TimeSpan.FromMilliseconds(20),
            PollWait = TimeSpan.FromSeconds(5),
        }));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}

/// <summary>One real silo web host (HTTP API on a free port) and a simulator, for the examples and the Python script.</summary>
public sealed class ExampleSilo : IAsyncLifetime
{
    private WebApplication? _app;

    public SimulatorServer Simulator { get; private set; } = null!;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The silo's admin key (the vocabulary example sets its limiter's limits).</summary>
    public string AdminKey { get; } = "admin-" + Guid.NewGuid().ToString("N");

    public HttpClient Http { get; private set; } = null!;

    public FloodgateHttpClient Floodgate { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Simulator = await SimulatorServer.StartAsync(new SimulatorOptions { MaxConcurrency = 0, LatencyMs = 40, ApiKey = UpstreamSettings.ApiKey });
        var settings = UpstreamSettings.For(Simulator.BaseUrl);
        settings["Urls"] = "http://127.0.0.1:0";
        settings["Logging:LogLevel:Default"] = "Warning";
        settings["Logging:LogLevel:Orleans"] = "Error";
        settings["Floodgate:Silo:SiloPort"] = FreeTcpPort.Next().ToString();
        settings["Floodgate:Silo:GatewayPort"] = FreeTcpPort.Next().ToString();
        settings["Floodgate:Silo:ClusterId"] = "examples-" + Guid.NewGuid().ToString("N")[..8];
        settings["Floodgate:Silo:Dashboard"] = "false";
        settings["Floodgate:Silo:WarmUp:Enabled"] = "false"; // used at once, not about speed: no start-up warm-up
        settings["Floodgate:Api:AdminKeys:0"] = AdminKey;
        _app = FloodgateSiloHost.Build([], settings);
        await _app.StartAsync();
        BaseUrl = new Uri(_app.Urls.First());
        Http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        Floodgate = new FloodgateHttpClient(Http);
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await Simulator.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ProcessorCollection : ICollectionFixture<ProcessorCluster>
{
    public const string Name = "processors";
}

[CollectionDefinition(Name)]
public sealed class ExampleCollection : ICollectionFixture<ExampleSilo>
{
    public const string Name = "examples";
}

public static class Unique
{
    public static string Name(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
