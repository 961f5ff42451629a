using System.Collections.Concurrent;
using System.Net.Http.Json;
using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Floodgate.Limiting;
using Floodgate.Simulator;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Floodgate.Tests.Failover;

/// <summary>
/// Two silos sharing durable storage; the silo hosting a saturated limiter is killed. Its own cluster, because a
/// killed silo must not disturb the other tests.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<string, (string, byte[])> _store = new();
    private SimulatorServer _simulator = null!;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorServer.StartAsync(new SimulatorOptions { MaxConcurrency = 0, LatencyMs = 150 });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Limiters:DefaultLeaseTtl"] = LeaseTtl.ToString(),
            ["Floodgate:Limiters:SweepInterval"] = "00:00:00.500",
            ["Floodgate:Limiters:ConfirmInterval"] = "00:00:01",
            ["Floodgate:Items:AttemptTimeout"] = "00:00:02",
        }).Build();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) => new SharedGrainStorage(_store, sp.GetRequiredService<Serializer>()));
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
            silo.UseFastFailureDetection();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public Task KillLimiterSilo_WhileSaturated_UpstreamNeverSeesMoreThanLimitAndWorkResumes() =>
        SaturateThenAsync(silo => _cluster.KillSiloAsync(silo));

    [Fact]
    public Task StopLimiterSilo_WhileSaturated_UpstreamNeverSeesMoreThanLimitAndWorkResumes() =>
        SaturateThenAsync(silo => _cluster.StopSiloAsync(silo));

    /// <summary>Twelve workers compete for four permits; <paramref name="fault"/> hits the limiter's silo mid-run.</summary>
    private async Task SaturateThenAsync(Func<InProcessSiloHandle, Task> fault)
    {
        const int limit = 4;
        var name = Unique.Name("failover");
        var client = new FloodgateClient(_cluster.Client, Options.Create(new FloodgateClientOptions { ClientId = "workers", LeaseTtl = LeaseTtl }));
        await client.SetLimitsAsync(name, new LimiterLimits(limit));
        using var http = new HttpClient { BaseAddress = _simulator.BaseUrl };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var completed = 0;

        // Twelve workers compete for four permits: the limiter is saturated the whole time.
        var workers = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var lease = await client.AcquireAsync(name, 1, TimeSpan.FromSeconds(20), stop.Token);
                    using var response = await http.PostAsJsonAsync("v1/chat/completions", new { messages = new[] { new { role = "user", content = $"w{i}" } } }, stop.Token);
                    Interlocked.Increment(ref completed);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception)
                {
                    // Calls in flight to the dead silo fail during failover; a real caller retries too.
                    await Task.Delay(100);
                }
            }
        })).ToList();

        await Eventually.TrueAsync(() => Volatile.Read(ref completed) >= 20, stop.Token);
        var siloOfLimiter = await FindSiloOfAsync(name);
        await fault(_cluster.GetActiveSilos().Single(s => s.SiloAddress.Equals(siloOfLimiter)));
        var atKill = Volatile.Read(ref completed);

        await Eventually.TrueAsync(() => Volatile.Read(ref completed) >= atKill + 40, stop.Token);
        var status = await client.GetLimiterStatusAsync(name);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.InRange(_simulator.GetStats().MaxConcurrent, 1, limit);
        Assert.True(status.Epoch >= 2, $"the limiter was reactivated (epoch {status.Epoch})");
    }

    private async Task<SiloAddress> FindSiloOfAsync(string limiter)
    {
        var stats = await _cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.Single(s => s.GrainId.ToString().Contains(limiter, StringComparison.Ordinal)).SiloAddress;
    }
}
