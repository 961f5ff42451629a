using Floodgate.Client.Hosting;
using Floodgate.Client.Http;

namespace Floodgate.Cli.Connection;

/// <summary>
/// Where the CLI sends its commands: the Orleans gateways (inside the cluster network), or a silo's HTTP API with an
/// API key (from anywhere that reaches the silo's HTTP port). Exactly one of the two is set.
/// </summary>
internal sealed record CliConnection
{
    private CliConnection(FloodgateConnectionOptions? gateway, FloodgateHttpClientOptions? http)
    {
        Gateway = gateway;
        Http = http;
    }

    /// <summary>Gateway mode: the Orleans client's target.</summary>
    public FloodgateConnectionOptions? Gateway { get; }

    /// <summary>HTTP mode: the silo's URL and key.</summary>
    public FloodgateHttpClientOptions? Http { get; }

    public static CliConnection ToGateways(FloodgateConnectionOptions gateway) => new(gateway, null);

    public static CliConnection ToHttp(FloodgateHttpClientOptions http) => new(null, http);

    /// <summary>Where the commands go, for messages (never the key).</summary>
    public string Target => Http?.BaseAddress?.ToString() ?? string.Join(", ", Gateway?.Gateways ?? []);
}
