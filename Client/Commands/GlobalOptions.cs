using System.CommandLine;
using Floodgate.Client.Hosting;

namespace Floodgate.Cli.Commands;

/// <summary>Options every command takes: where the cluster is.</summary>
internal sealed class GlobalOptions
{
    /// <summary>Environment variable with the default gateways, comma-separated.</summary>
    public const string GatewayVariable = "FLOODGATE_GATEWAY";

    private static readonly FloodgateConnectionOptions Defaults = new();

    /// <summary>Creates the options; <paramref name="gatewayVariable"/> is the value of <see cref="GatewayVariable"/>, if set.</summary>
    public GlobalOptions(string? gatewayVariable)
    {
        IReadOnlyList<string> fromEnvironment = SplitGateways([gatewayVariable]);
        var defaultGateways = fromEnvironment.Count > 0 ? fromEnvironment : [.. Defaults.Gateways];
        Gateways = new Option<string[]>("--gateway")
        {
            Description = $"A silo gateway as host:port; repeat or comma-separate for several. Default: ${GatewayVariable}, else {Defaults.Gateways[0]}.",
            HelpName = "host:port",
            Recursive = true,
            DefaultValueFactory = _ => [.. defaultGateways],
        };
        ClusterId = new Option<string>("--cluster-id")
        {
            Description = "The cluster id the silos use.",
            Recursive = true,
            DefaultValueFactory = _ => Defaults.ClusterId,
        };
        ServiceId = new Option<string>("--service-id")
        {
            Description = "The service id the silos use.",
            Recursive = true,
            DefaultValueFactory = _ => Defaults.ServiceId,
        };
    }

    /// <summary><c>--gateway</c>.</summary>
    public Option<string[]> Gateways { get; }

    /// <summary><c>--cluster-id</c>.</summary>
    public Option<string> ClusterId { get; }

    /// <summary><c>--service-id</c>.</summary>
    public Option<string> ServiceId { get; }

    /// <summary>Adds the options to the root command (recursive, so every subcommand accepts them).</summary>
    public void AddTo(Command root)
    {
        root.Options.Add(Gateways);
        root.Options.Add(ClusterId);
        root.Options.Add(ServiceId);
    }

    /// <summary>The connection the parsed command line asks for.</summary>
    public FloodgateConnectionOptions Read(ParseResult parseResult) => new()
    {
        Gateways = SplitGateways(parseResult.GetValue(Gateways) ?? []).ToList(),
        ClusterId = parseResult.GetValue(ClusterId) ?? Defaults.ClusterId,
        ServiceId = parseResult.GetValue(ServiceId) ?? Defaults.ServiceId,
    };

    /// <summary>Splits comma-separated gateway lists and drops empty entries.</summary>
    public static IReadOnlyList<string> SplitGateways(IEnumerable<string?> values) =>
        values
            .SelectMany(value => (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
}
