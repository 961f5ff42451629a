using System.CommandLine;
using Floodgate.Cli.Connection;
using Floodgate.Client.Hosting;
using Floodgate.Client.Http;
using Floodgate.Validation;

namespace Floodgate.Cli.Commands;

/// <summary>
/// Options every command takes: where Floodgate is. Gateway mode (<c>--gateway</c>, the Orleans client, for hosts inside
/// the cluster network) or HTTP mode (<c>--url</c> and <c>--api-key</c>, the silo's HTTP API, for everybody else).
/// </summary>
internal sealed class GlobalOptions
{
    /// <summary>Environment variable with the default gateways, comma-separated.</summary>
    public const string GatewayVariable = "FLOODGATE_GATEWAY";

    /// <summary>Environment variable with the default silo URL; set, it selects HTTP mode.</summary>
    public const string UrlVariable = "FLOODGATE_URL";

    /// <summary>Environment variable with the API key for HTTP mode (safer than <c>--api-key</c>, which other users can see in the process list).</summary>
    public const string ApiKeyVariable = "FLOODGATE_API_KEY";

    private static readonly FloodgateConnectionOptions Defaults = new();

    private readonly string? _urlVariable;
    private readonly string? _apiKeyVariable;

    /// <summary>Creates the options from the environment's defaults (each null when its variable is not set).</summary>
    public GlobalOptions(string? gatewayVariable, string? urlVariable = null, string? apiKeyVariable = null)
    {
        _urlVariable = string.IsNullOrWhiteSpace(urlVariable) ? null : urlVariable.Trim();
        _apiKeyVariable = string.IsNullOrEmpty(apiKeyVariable) ? null : apiKeyVariable;
        IReadOnlyList<string> fromEnvironment = SplitGateways([gatewayVariable]);
        var defaultGateways = fromEnvironment.Count > 0 ? fromEnvironment : [.. Defaults.Gateways];
        Gateways = new Option<string[]>("--gateway")
        {
            Description = $"Gateway mode: a silo gateway as host:port; repeat or comma-separate for several. Default: ${GatewayVariable}, else {Defaults.Gateways[0]}. For hosts inside the cluster network only.",
            HelpName = "host:port",
            Recursive = true,
            DefaultValueFactory = _ => [.. defaultGateways],
        };
        ClusterId = new Option<string>("--cluster-id")
        {
            Description = "Gateway mode: the cluster id the silos use.",
            Recursive = true,
            DefaultValueFactory = _ => Defaults.ClusterId,
        };
        ServiceId = new Option<string>("--service-id")
        {
            Description = "Gateway mode: the service id the silos use.",
            Recursive = true,
            DefaultValueFactory = _ => Defaults.ServiceId,
        };
        Url = new Option<string?>("--url")
        {
            Description = $"HTTP mode: a silo's HTTP address, e.g. https://floodgate.example:5080. Default: ${UrlVariable}. Every command then goes through the HTTP API.",
            HelpName = "url",
            Recursive = true,
        };
        ApiKey = new Option<string?>("--api-key")
        {
            Description = $"HTTP mode: the API key (client, or admin for limiter set). Default: ${ApiKeyVariable}, which other users cannot see in the process list.",
            HelpName = "key",
            Recursive = true,
        };
    }

    /// <summary><c>--gateway</c>.</summary>
    public Option<string[]> Gateways { get; }

    /// <summary><c>--cluster-id</c>.</summary>
    public Option<string> ClusterId { get; }

    /// <summary><c>--service-id</c>.</summary>
    public Option<string> ServiceId { get; }

    /// <summary><c>--url</c>.</summary>
    public Option<string?> Url { get; }

    /// <summary><c>--api-key</c>.</summary>
    public Option<string?> ApiKey { get; }

    /// <summary>Adds the options to the root command (recursive, so every subcommand accepts them).</summary>
    public void AddTo(Command root)
    {
        root.Options.Add(Gateways);
        root.Options.Add(ClusterId);
        root.Options.Add(ServiceId);
        root.Options.Add(Url);
        root.Options.Add(ApiKey);
    }

    /// <summary>
    /// The connection the parsed command line asks for: HTTP mode when <c>--url</c> is given, or <c>$FLOODGATE_URL</c> is
    /// set and no <c>--gateway</c> is given; gateway mode otherwise. Throws <see cref="FloodgateValidationException"/> for
    /// a bad URL or key, or options of both modes.
    /// </summary>
    public CliConnection Read(ParseResult parseResult)
    {
        var explicitUrl = parseResult.GetValue(Url);
        var explicitGateway = parseResult.GetResult(Gateways) is { Implicit: false };
        var url = explicitUrl ?? (explicitGateway ? null : _urlVariable);
        var apiKey = parseResult.GetValue(ApiKey) ?? _apiKeyVariable;
        if (explicitUrl is not null && explicitGateway)
        {
            throw new FloodgateValidationException("--url (HTTP mode) and --gateway (gateway mode) exclude each other; give one.");
        }

        if (url is null)
        {
            if (parseResult.GetValue(ApiKey) is not null)
            {
                throw new FloodgateValidationException("--api-key needs --url: the Orleans gateway takes no key (it belongs on a private network).");
            }

            return CliConnection.ToGateways(ReadGateways(parseResult));
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw new FloodgateValidationException($"--url '{url}' is not an http:// or https:// address.");
        }

        var http = new FloodgateHttpClientOptions { BaseAddress = address, ApiKey = apiKey };
        if (http.Validate() is { Count: > 0 } errors)
        {
            throw new FloodgateValidationException(errors);
        }

        return CliConnection.ToHttp(http);
    }

    /// <summary>Where the commands would go, for error messages; never throws and never shows the key.</summary>
    public string Target(ParseResult parseResult)
    {
        try
        {
            return Read(parseResult).Target;
        }
        catch (FloodgateValidationException)
        {
            return string.Join(", ", ReadGateways(parseResult).Gateways);
        }
    }

    /// <summary>Splits comma-separated gateway lists and drops empty entries.</summary>
    public static IReadOnlyList<string> SplitGateways(IEnumerable<string?> values) =>
        values
            .SelectMany(value => (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();

    private FloodgateConnectionOptions ReadGateways(ParseResult parseResult) => new()
    {
        Gateways = SplitGateways(parseResult.GetValue(Gateways) ?? []).ToList(),
        ClusterId = parseResult.GetValue(ClusterId) ?? Defaults.ClusterId,
        ServiceId = parseResult.GetValue(ServiceId) ?? Defaults.ServiceId,
    };
}
