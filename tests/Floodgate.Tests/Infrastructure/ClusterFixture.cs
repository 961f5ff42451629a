using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Floodgate.Simulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;

namespace Floodgate.Tests.Infrastructure;

/// <summary>
/// One in-process cluster of two silos and one upstream simulator, shared by every test in the "cluster" collection
/// (tests in a collection run one after another, so the simulator's numbers belong to the running test).
/// Each test uses its own limiter and breaker names.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string UpstreamApiKey = "sk-test-7d3f0c2a9b8e4d61a5c3f2e1d0b9a8c7";

    public SimulatorServer Simulator { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IFloodgateClient Client { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public async Task InitializeAsync()
    {
        // No account limit at the simulator: over-admission must show up in MaxConcurrent, not be hidden by 429s.
        Simulator = await SimulatorServer.StartAsync(new SimulatorOptions { MaxConcurrency = 0, LatencyMs = 30, ApiKey = UpstreamApiKey });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Processors:OpenAiChat:BaseUrl"] = Simulator.BaseUrl.ToString(),
            ["Floodgate:Processors:OpenAiChat:ApiKey"] = UpstreamApiKey,
            ["Floodgate:CircuitBreaker:FailureThreshold"] = "3",
            ["Floodgate:CircuitBreaker:BreakDuration"] = "00:00:30",
            ["Floodgate:Items:BaseDelay"] = "00:00:00.020",
            ["Floodgate:Items:MaxDelay"] = "00:00:00.100",
            ["Floodgate:Items:MaxRetryAfter"] = "00:00:00.200",
            ["Floodgate:Items:AttemptTimeout"] = "00:00:10",
            ["Floodgate:Items:AcquireTimeout"] = "00:01:00",
            ["Floodgate:Limiters:Limits:configured-limiter"] = "7",
            ["Floodgate:Limiters:ConfirmInterval"] = "00:00:01",
        }).Build();

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
            silo.AddIncomingGrainCallFilter<FaultInjectionFilter>();
            silo.Services.AddLogging(logging => logging.AddProvider(Logs).AddFilter<LogCapture>("Floodgate", LogLevel.Debug));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = NewClient();
    }

    /// <summary>A fresh SDK client over the cluster's client connection.</summary>
    public IFloodgateClient NewClient(string? clientId = null) =>
        new FloodgateClient(Cluster.Client, Options.Create(new FloodgateClientOptions
        {
            ClientId = clientId ?? "test-client",
            WatchInterval = TimeSpan.FromMilliseconds(20),
            PollWait = TimeSpan.FromSeconds(5),
        }));

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>Names unique to one test, so tests sharing a cluster never share a limiter or breaker.</summary>
public static class Unique
{
    public static string Name(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
