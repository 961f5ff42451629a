using System.CommandLine;
using Floodgate.Cli.Output;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate status &lt;batchId&gt;</c>: one snapshot of a batch's progress.</summary>
internal sealed class StatusCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _batchId = CommonSymbols.BatchId();
    private readonly Option<bool> _json = CommonSymbols.Json();

    public StatusCommand(CliSession session)
        : base("status", "Print a batch's progress once: state, counts, rate, ETA, local limit, retries, rate-limit hits, latency and warnings.")
    {
        _session = session;
        Arguments.Add(_batchId);
        Options.Add(_json);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var batchId = CommonSymbols.ReadBatchId(parseResult, _batchId);
        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var progress = await client.GetBatch(batchId).GetProgressAsync(cancellationToken);
        if (parseResult.GetValue(_json))
        {
            CliJson.Write(_session.Terminal.Out, progress);
        }
        else
        {
            BatchText.WriteStatus(_session.Terminal.Out, progress);
        }

        return ExitCodes.Ok;
    }
}
