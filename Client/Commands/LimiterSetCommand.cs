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

    private readonly Option<bool> _json = CommonSymbols.Json();

    public LimiterSetCommand(CliSession session)
        : base("set", "Change a limiter's limit live, then print its status.")
    {
        _session = session;
        Arguments.Add(_name);
        Options.Add(_maxConcurrency);
        Options.Add(_json);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var name = Names.Require("Limiter name", parseResult.GetValue(_name));
        var limits = new LimiterLimits(parseResult.GetValue(_maxConcurrency));
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
