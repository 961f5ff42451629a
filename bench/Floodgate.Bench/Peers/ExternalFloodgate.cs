using System.Globalization;
using Floodgate.Client;
using Floodgate.Client.Hosting;
using Floodgate.ProcessCluster.Cluster;
using Floodgate.ProcessCluster.Silos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Floodgate.Bench.Peers;

/// <summary>
/// Floodgate as a service uses it across a network hop: a real <c>Silo</c> process and this process as an external client
/// connected to its gateway over TCP through the SDK (<see cref="FloodgateClientServiceCollectionExtensions.UseFloodgateClient"/>)
/// — the fair opponent of a semaphore on a redis-server in another process. The silo keeps its grains' state in memory
/// (<see cref="StartAsync"/>) or, as a deployment does, on its own redis-server (<see cref="StartOnRedisAsync"/>).
/// </summary>
internal sealed class ExternalFloodgate : IAsyncDisposable
{
    private readonly IAsyncDisposable _silos;
    private readonly IHost _client;

    private ExternalFloodgate(IAsyncDisposable silos, IHost client)
    {
        _silos = silos;
        _client = client;
        Client = client.Services.GetRequiredService<IFloodgateClient>();
    }

    public IFloodgateClient Client { get; }

    /// <summary>One silo with Localhost clustering and in-memory grain storage.</summary>
    public static async Task<ExternalFloodgate> StartAsync(string logDirectory)
    {
        var silo = SiloProcess.Start("peers-silo", logDirectory, new Dictionary<string, string>
        {
            ["Floodgate:Silo:Clustering"] = "Localhost",
            ["Floodgate:Silo:Dashboard"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        }, new Dictionary<string, string>());
        try
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
            return new ExternalFloodgate(silo, await ConnectAsync(silo, connection => { }));
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
    }

    /// <summary>One silo with Redis clustering and Redis grain storage on a redis-server of its own: every grant waits for a Redis write.</summary>
    public static async Task<ExternalFloodgate> StartOnRedisAsync(string logDirectory, Action<string> log)
    {
        var cluster = await FloodgateProcessCluster.StartAsync(
            new ProcessClusterOptions
            {
                LogDirectory = Path.Combine(logDirectory, "redis-silo"),
                Silos = 1,
                SiloSettings = new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Warning" },
            },
            log);
        try
        {
            return new ExternalFloodgate(cluster, await ConnectAsync(cluster.RunningSilos[0], connection =>
            {
                connection.ClusterId = cluster.ClusterId;
                connection.ServiceId = cluster.ClusterId;
            }));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _client.StopAsync();
        _client.Dispose();
        await _silos.DisposeAsync();
    }

    private static async Task<IHost> ConnectAsync(SiloProcess silo, Action<FloodgateConnectionOptions> connect)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseFloodgateClient(connection =>
        {
            connection.Gateways = [$"127.0.0.1:{silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}"];
            connect(connection);
        });
        var client = builder.Build();
        await client.StartAsync();
        return client;
    }
}
