using System.Collections.Concurrent;
using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Floodgate.Tests.Batches;

/// <summary>
/// Two silos sharing one durable store that counts reads and writes, with small chunks (50 items), a small cache, a
/// batch limit of <see cref="DefaultMaxItems"/> items and finished batches leaving memory after a second idle — so chunking,
/// reloading and eviction happen in tests of a few hundred items. <see cref="Retention"/> is long unless a subclass
/// shortens it.
/// </summary>
public class ChunkedBatchFixture : IAsyncLifetime
{
    public const int ChunkSize = 50;
    public const int DefaultMaxItems = 2_000_000;
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromSeconds(1);

    public ConcurrentDictionary<string, (string ETag, byte[] State)> Store { get; } = new();

    public CountingGrainStorage Storage { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IFloodgateClient Client { get; private set; } = null!;

    public Serializer Serializer => Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();

    protected virtual TimeSpan Retention => TimeSpan.FromHours(1);

    protected virtual TimeSpan ReceiveTimeout => TimeSpan.FromMinutes(5);

    /// <summary>The silo's <c>Batches:MaxItems</c>.</summary>
    public virtual int MaxItems => DefaultMaxItems;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Batches:ChunkSize"] = ChunkSize.ToString(),
            ["Floodgate:Batches:CachedChunks"] = "2",
            ["Floodgate:Batches:MaxItems"] = MaxItems.ToString(),
            ["Floodgate:Batches:Retention"] = Retention.ToString(),
            ["Floodgate:Batches:ReceiveTimeout"] = ReceiveTimeout.ToString(),
            ["Floodgate:Batches:IdleTimeout"] = "00:00:01",
            ["Floodgate:Batches:InFlightCheckInterval"] = "00:00:00.500",
            ["Floodgate:Batches:CheckpointInterval"] = "00:00:00.200",
            ["Floodgate:Batches:MinWriteInterval"] = "00:00:00.020",
            ["Floodgate:Batches:ReminderPeriod"] = ReminderPeriod.ToString(),
            ["Floodgate:Items:BaseDelay"] = "00:00:00.020",
            ["Floodgate:Items:MaxDelay"] = "00:00:00.100",
        }).Build();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) =>
            {
                // One counting view over the shared store, whichever silo writes.
                lock (Store)
                {
                    Storage ??= CountingGrainStorage.InMemory(sp.GetRequiredService<Serializer>(), Store);
                    return Storage;
                }
            });
            silo.UseInMemoryReminderService();
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = ReminderPeriod);
            silo.AddFloodgate(configuration);
            silo.Services.AddItemProcessor<GateProcessor>();
            silo.Services.AddItemProcessor<FlakyProcessor>();
            silo.Services.AddLogging(logging => logging.AddProvider(Logs).AddFilter<LogCapture>("Floodgate", LogLevel.Debug));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new FloodgateClient(Cluster.Client, Options.Create(new FloodgateClientOptions
        {
            PollWait = TimeSpan.FromSeconds(5),
            WatchInterval = TimeSpan.FromMilliseconds(20),
        }));
    }

    /// <summary>How many records of the batch storage holds (its own, items chunks, outcome chunks).</summary>
    public int StoredRecords(string batchId) => Store.Keys.Count(k => k.EndsWith("/batch/" + batchId, StringComparison.Ordinal));

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The same cluster with a retention of two seconds, submissions abandoned after two silent seconds, and at most 120
/// items per batch.
/// </summary>
public sealed class ShortRetentionFixture : ChunkedBatchFixture
{
    public override int MaxItems => 120;

    protected override TimeSpan Retention => TimeSpan.FromSeconds(2);

    protected override TimeSpan ReceiveTimeout => TimeSpan.FromSeconds(2);
}
