using Floodgate.Batches;
using Floodgate.Limiting;
using Floodgate.ProcessCluster.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Floodgate.ProcessCluster.Placement;

/// <summary>
/// Finds which silo hosts a grain: an Orleans client in the harness process, joined to the cluster through the same
/// Redis membership, asks the management grain for the activation's address (a directory lookup; it activates nothing).
/// The answer is a silo port, which names a <see cref="Silos.SiloProcess"/>.
/// </summary>
public sealed class GrainLocator : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly IClusterClient _client;

    private GrainLocator(IHost host)
    {
        _host = host;
        _client = host.Services.GetRequiredService<IClusterClient>();
    }

    public static async Task<GrainLocator> ConnectAsync(string redisConnectionString, string clusterId, string serviceId, CancellationToken cancellationToken)
    {
        // No default logging: the client's failover warnings would only repeat what the silo logs say.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        // Not the console lifetime: it would take SIGTERM and Ctrl+C from the harness process (and only stop this client).
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redisConnectionString));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            });
            // Killed silos are gateways too: learn the live list quickly.
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
        });
        var host = builder.Build();
        using var cts = HarnessHttp.Within(TimeSpan.FromSeconds(30), cancellationToken);
        await host.StartAsync(cts.Token);
        return new GrainLocator(host);
    }

    /// <summary>The silo port of the limiter's activation, or null when it is not active (or the cluster did not answer in time).</summary>
    public Task<int?> FindLimiterAsync(string limiter, CancellationToken cancellationToken) =>
        FindAsync(_client.GetGrain<IGlobalLimiterGrain>(limiter), cancellationToken);

    /// <summary>The silo port of the batch's activation, or null.</summary>
    public Task<int?> FindBatchAsync(string batchId, CancellationToken cancellationToken) =>
        FindAsync(_client.GetGrain<IBatchGrain>(batchId), cancellationToken);

    /// <summary>Activations in the cluster now, by grain type (e.g. <c>item</c>, <c>batch</c>): what stays in the silos' memory.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountActivationsAsync(CancellationToken cancellationToken = default)
    {
        var stats = await _client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics().WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        return stats.GroupBy(s => s.GrainType.Split('.')[^1]).ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount));
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _host.StopAsync(cts.Token);
        }
        catch (Exception)
        {
            // The cluster may be gone already; the client has nothing to hand over.
        }

        _host.Dispose();
    }

    private async Task<int?> FindAsync(IAddressable grain, CancellationToken cancellationToken)
    {
        var management = _client.GetGrain<IManagementGrain>(0);
        // During a failover calls are rejected or time out for a while: retry, boundedly.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                var address = await management.GetActivationAddress(grain).AsTask().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                return address?.Endpoint.Port;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(250, cancellationToken);
            }
        }

        return null;
    }
}

/// <summary>A host lifetime that leaves the process's signals alone.</summary>
internal sealed class SignalFreeLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
