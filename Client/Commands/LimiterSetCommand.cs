using System.CommandLine;
using Floodgate.Cli.Output;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate limiter set &lt;name&gt; --max-concurrency N</c>: changes a limiter's limit live.</summary>
internal sealed class LimiterSetCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _name = new("name") { Description = "The limiter's name." };
    private readonly Option<int> _maxConcurrency = new("--max-concurrency")
    {
        Description = "Permits that may be held at once. Lowering it never revokes held leases; it withholds new grants until in-use drops below it.",
        HelpName = "N",
        Required = true,
    };

    private readonly Option<int?> _requestsPerMinute = new("--requests-per-minute")
    {
        Description = "The account's request rate; grants then also need room in a sliding 60 s window of rate × safety factor. Omit for no rate budget.",
        HelpName = "N",
    };

    private readonly Option<double?> _rateSafetyFactor = new("--rate-safety-factor")
    {
        Description = "Share of --requests-per-minute actually used (default: the silo's, 0.8).",
        HelpName = "F",
    };

    private readonly Option<bool> _json = CommonSymbols.Json();

    public LimiterSetCommand(CliSession session)
        : base("set", "Change a limiter's limits live (concurrency and, optionally, requests per minute), then print its status.")
    {
        _session = session;
        Arguments.Add(_name);
        Options.Add(_maxConcurrency);
        Options.Add(_requestsPerMinute);
        Options.Add(_rateSafetyFactor);
        Options.Add(_json);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var name = Names.RequireUnreserved("Limiter name", parseResult.GetValue(_name));
        var limits = new LimiterLimits(parseResult.GetValue(_maxConcurrency), parseResult.GetValue(_requestsPerMinute), parseResult.GetValue(_rateSafetyFactor));
        LimiterLimitsValidator.ThrowIfInvalid(limits);
        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var status = await client.SetLimitsAsync(name, limits, cancellationToken);
        if (parseResult.GetValue(_json))
        {
            CliJson.Write(_session.Terminal.Out, status);
        }
        else
        {
            LimiterStatusView.Write(_session.Terminal.OutConsole, status);
        }

        return ExitCodes.Ok;
    }
}
