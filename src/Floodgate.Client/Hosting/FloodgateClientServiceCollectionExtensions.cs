using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Floodgate.Client.Hosting;

/// <summary>Where a client finds the Floodgate cluster.</summary>
public sealed class FloodgateConnectionOptions
{
    /// <summary>Default gateway port of a silo.</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>Silo gateways as <c>host:port</c>; default the local silo.</summary>
    public IList<string> Gateways { get; set; } = [$"127.0.0.1:{DefaultGatewayPort}"];

    /// <summary>Cluster id the silos use.</summary>
    public string ClusterId { get; set; } = "floodgate";

    /// <summary>Service id the silos use.</summary>
    public string ServiceId { get; set; } = "floodgate";

    /// <summary>Parses <see cref="Gateways"/>; throws a clear error for a malformed entry.</summary>
    public IReadOnlyList<IPEndPoint> ParseGateways()
    {
        if (Gateways.Count == 0)
        {
            throw new Validation.FloodgateValidationException("At least one gateway (host:port) is required.");
        }

        return Gateways.Select(Parse).ToList();

        static IPEndPoint Parse(string gateway)
        {
            var colon = gateway.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(gateway[(colon + 1)..], out var port) || port is < 1 or > 65535)
            {
                throw new Validation.FloodgateValidationException($"Gateway '{gateway}' is not host:port (e.g. 127.0.0.1:30000).");
            }

            var host = gateway[..colon];
            if (host == "localhost")
            {
                return new IPEndPoint(IPAddress.Loopback, port);
            }

            if (IPAddress.TryParse(host, out var address))
            {
                return new IPEndPoint(address, port);
            }

            var resolved = Dns.GetHostAddresses(host).FirstOrDefault()
                ?? throw new Validation.FloodgateValidationException($"Gateway host '{host}' could not be resolved.");
            return new IPEndPoint(resolved, port);
        }
    }
}

/// <summary>DI registration of the SDK.</summary>
public static class FloodgateClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFloodgateClient"/> over the <see cref="IGrainFactory"/> already in the container (an Orleans
    /// client set up with <c>UseOrleansClient</c>, or a silo). See <see cref="UseFloodgateClient"/> for a ready client.
    /// </summary>
    public static IServiceCollection AddFloodgateClient(this IServiceCollection services, Action<FloodgateClientOptions>? configure = null)
    {
        var options = services.AddOptions<FloodgateClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IFloodgateClient, FloodgateClient>();
        return services;
    }

    /// <summary>Connects an Orleans client to the silos' gateways and registers <see cref="IFloodgateClient"/>.</summary>
    public static IHostApplicationBuilder UseFloodgateClient(
        this IHostApplicationBuilder builder,
        Action<FloodgateConnectionOptions>? connect = null,
        Action<FloodgateClientOptions>? configure = null)
    {
        var connection = new FloodgateConnectionOptions();
        connect?.Invoke(connection);
        var gateways = connection.ParseGateways();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(gateways.ToArray());

            // The caller's Activity.Current (its trace) travels with each grain call into the batch and its items.
            client.AddActivityPropagation();
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = connection.ClusterId;
                o.ServiceId = connection.ServiceId;
            });
        });
        builder.Services.AddFloodgateClient(configure);
        return builder;
    }
}
