using System.CommandLine;
using Floodgate.Cli.Output;
using Floodgate.Validation;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate limiter show &lt;name&gt;</c>: a limiter's counters, holders and waiters.</summary>
internal sealed class LimiterShowCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _name = new("name") { Description = "The limiter's name, e.g. default or replicate:acct-42." };
    private readonly Option<bool> _json = CommonSymbols.Json();

    public LimiterShowCommand(CliSession session)
        : base("show", "Print a limiter's status: limit and where it came from, permits in use and available, waiters, "
            + "high-water mark, grants, timeouts, expirations, and tables of holders and waiters.")
    {
        _session = session;
        Arguments.Add(_name);
        Options.Add(_json);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var name = Names.RequireUnreserved("Limiter name", parseResult.GetValue(_name));
        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var status = await client.GetLimiterStatusAsync(name, cancellationToken);
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
