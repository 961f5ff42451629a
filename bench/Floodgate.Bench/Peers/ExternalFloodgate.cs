using System.Globalization;
using Floodgate.Client;
using Floodgate.Client.Hosting;
using Floodgate.ProcessCluster.Silos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Floodgate.Bench.Peers;

/// <summary>
/// Floodgate as a service uses it across a network hop: a real <c>Silo</c> process (Localhost clustering, in-memory
/// storage) and this process as an external client connected to its gateway over TCP through the SDK
/// (<see cref="FloodgateClientServiceCollectionExtensions.UseFloodgateClient"/>) — the fair opponent of a semaphore on
/// a redis-server in another process.
/// </summary>
internal sealed class ExternalFloodgate : IAsyncDisposable
{
    private readonly SiloProcess _silo;
    private readonly IHost _client;

    private ExternalFloodgate(SiloProcess silo, IHost client)
    {
        _silo = silo;
        _client = client;
        Client = client.Services.GetRequiredService<IFloodgateClient>();
    }

    public IFloodgateClient Client { get; }

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
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseFloodgateClient(connection => connection.Gateways = [$"127.0.0.1:{silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}"]);
            var client = builder.Build();
            await client.StartAsync();
            return new ExternalFloodgate(silo, client);
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _client.StopAsync();
        _client.Dispose();
        await _silo.DisposeAsync();
    }
}
