using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Floodgate.Tests.Batches;

/// <summary>
/// One silo whose batches a test can fault (lost writes, lost item starts), with the <c>gate</c> processor, fast
/// in-flight checks and a reminder every second, so that recovery paths run in seconds. Its own cluster: tests here
/// deactivate grains on purpose.
/// </summary>
public sealed class BatchFaultFixture : IAsyncLifetime
{
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromSeconds(1);

    public BatchFaults Faults { get; } = new();

    public LogCapture Logs { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IFloodgateClient Client { get; private set; } = null!;

    public Serializer Serializer => Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Batches:InFlightCheckInterval"] = "00:00:00.500",
            ["Floodgate:Batches:CheckpointInterval"] = "00:00:00.200",
            ["Floodgate:Batches:MinWriteInterval"] = "00:00:00.020",
            ["Floodgate:Batches:ReminderPeriod"] = ReminderPeriod.ToString(),
            ["Floodgate:Items:BaseDelay"] = "00:00:00.020",
            ["Floodgate:Items:MaxDelay"] = "00:00:00.100",
            ["Floodgate:Items:AttemptTimeout"] = "00:00:30",
            ["Floodgate:Items:TotalTimeout"] = "00:01:00",
        }).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) => new FaultyGrainStorage(Faults, sp.GetRequiredService<Serializer>()));
            silo.UseInMemoryReminderService();
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = ReminderPeriod);
            silo.AddFloodgate(configuration);
            silo.Services.AddItemProcessor<GateProcessor>();
            silo.Services.AddSingleton(Faults);
            silo.AddIncomingGrainCallFilter<ItemCallFaultFilter>();
            silo.Services.AddLogging(logging => logging.AddProvider(Logs).AddFilter<LogCapture>("Floodgate", LogLevel.Debug));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new FloodgateClient(Cluster.Client, Options.Create(new FloodgateClientOptions { PollWait = TimeSpan.FromSeconds(5) }));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
