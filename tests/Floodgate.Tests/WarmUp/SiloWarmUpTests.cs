using System.Collections.Concurrent;
using Floodgate.Batches;
using Floodgate.Catalog;
using Floodgate.Grains.Hosting;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.WarmUp;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Floodgate.Tests.WarmUp;

/// <summary>
/// A cluster of Floodgate silos sharing one grain storage the tests can read, with small chunks so that warm-up rounds
/// are short; <paramref name="configure"/> adds to each silo.
/// </summary>
public abstract class StoredClusterFixture(short silos, int chunkSize, Action<ISiloBuilder>? configure = null) : IAsyncLifetime
{
    public ConcurrentDictionary<string, (string ETag, byte[] State)> Store { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Batches:ChunkSize"] = chunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) => new SharedGrainStorage(Store, sp.GetRequiredService<Serializer>()));
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
            configure?.Invoke(silo);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>One silo whose grain storage the tests can read.</summary>
public sealed class WarmUpClusterFixture() : StoredClusterFixture(silos: 1, chunkSize: 20)
{
    /// <summary>A warm-up on the silo, reading its JIT count from <paramref name="compiledMethods"/>.</summary>
    public SiloWarmUp WarmUp(Func<long> compiledMethods)
    {
        var services = Cluster.Silos[0].ServiceProvider;
        return new SiloWarmUp(
            services.GetRequiredService<IGrainFactory>(),
            services.GetRequiredService<ILocalSiloDetails>(),
            TimeProvider.System,
            NullLogger<SiloWarmUp>.Instance,
            compiledMethods,
            maxQuietWait: TimeSpan.FromMilliseconds(400));
    }
}

public sealed class SiloWarmUpTests(WarmUpClusterFixture fixture) : IClassFixture<WarmUpClusterFixture>
{
    private static readonly WarmUpPlan Plan = new(ItemsPerRound: 30, MaxRounds: 5, Concurrency: 8);

    [Fact]
    public async Task RunAsync_JitCompilesInTheFirstRoundOnly_SettlesAfterTheSecond()
    {
        // Each of the first reads finds 100 more methods compiled (all within the first round); from the fourth read on, none.
        long reads = 0;
        var warmUp = fixture.WarmUp(() => Math.Min(Interlocked.Increment(ref reads), 4) * 100);

        var result = await warmUp.RunAsync(Plan, CancellationToken.None);

        Assert.True(result.Settled);
        Assert.Equal(2, result.Rounds);
        Assert.Equal(result.Rounds * 40, result.Items); // 30 items per round: two chunks of 20
        Assert.True(result.Erased);
    }

    [Fact]
    public async Task RunAsync_JitKeepsCompilingAsMuchAsInTheFirstRound_StopsAtMaxRoundsUnsettled()
    {
        long reads = 0;
        var warmUp = fixture.WarmUp(() => Interlocked.Increment(ref reads) * 1000);

        var result = await warmUp.RunAsync(Plan, CancellationToken.None);

        Assert.False(result.Settled);
        Assert.Equal(Plan.MaxRounds, result.Rounds);
        Assert.True(result.Erased);
    }

    [Fact]
    public async Task RunAsync_Finished_LeavesNoRecordNoListEntryNoCatalogNameAndNoReminder()
    {
        var result = await fixture.WarmUp(() => 0).RunAsync(Plan, CancellationToken.None);

        Assert.True(result.Erased);
        await AssertNoTraceAsync(result.Name);
    }

    [Fact]
    public async Task RunAsync_CancelledMidway_StillErasesEverything()
    {
        using var cancel = new CancellationTokenSource();
        long reads = 0;

        // The JIT "keeps compiling", so rounds go on until the cancel stops them, with items in flight.
        var run = fixture.WarmUp(() => Interlocked.Increment(ref reads) * 1000).RunAsync(Plan with { MaxRounds = 50 }, cancel.Token);
        await Eventually.TrueAsync(() => Task.FromResult(Interlocked.Read(ref reads) >= 3));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.DoesNotContain(fixture.Store.Keys, k => k.Contains(WarmUpNames.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RetireAsync_LeaseHeld_RefusesAndKeepsTheLimiterThenRetiresOnceReleased()
    {
        var name = WarmUpNames.NewRun();
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);
        var lease = (await limiter.AcquireAsync(new AcquireRequest("holder", 1, TimeSpan.Zero))).Lease!;
        var retirement = fixture.Cluster.Client.GetGrain<ILimiterRetirement>(name);

        Assert.False(await retirement.RetireAsync());
        Assert.Equal(1, (await limiter.GetStatusAsync()).InUse);
        Assert.Contains(fixture.Store.Keys, k => k.Contains(name, StringComparison.Ordinal));

        await limiter.ReleaseAsync(lease.LeaseId);
        Assert.True(await retirement.RetireAsync());

        Assert.DoesNotContain(fixture.Store.Keys, k => k.Contains(name, StringComparison.Ordinal));
    }

    private async Task AssertNoTraceAsync(string name)
    {
        // Storage: the batch's record and chunks, the limiter's record; and nothing was written for the list or the
        // catalogs (the list and the catalogs store a record only when an entry changes).
        Assert.DoesNotContain(fixture.Store.Keys, k => k.Contains(name, StringComparison.Ordinal) || k.Contains("index", StringComparison.OrdinalIgnoreCase) || k.Contains("catalog", StringComparison.OrdinalIgnoreCase));

        var grains = fixture.Cluster.Client;
        var list = await grains.GetGrain<IBatchIndexGrain>(IBatchIndexGrain.Key).ListAsync(new BatchListQuery(Limit: BatchListQuery.MaxLimit));
        Assert.DoesNotContain(list.Batches, b => WarmUpNames.IsWarmUp(b.BatchId));
        Assert.DoesNotContain(await grains.GetGrain<ICatalogGrain>(CatalogKeys.Limiters).ListAsync(), WarmUpNames.IsWarmUp);
        Assert.DoesNotContain(await grains.GetGrain<ICatalogGrain>(CatalogKeys.Breakers).ListAsync(), WarmUpNames.IsWarmUp);

        var reminders = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();
        var batchId = grains.GetGrain<IBatchGrain>(name).GetGrainId();
        Assert.Empty((await reminders.ReadRows(batchId)).Reminders);
    }
}
