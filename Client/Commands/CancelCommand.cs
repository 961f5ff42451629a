using System.CommandLine;
using Floodgate.Cli.Output;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate cancel &lt;batchId&gt;</c>: stops dispatch and cancels items in flight.</summary>
internal sealed class CancelCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _batchId = CommonSymbols.BatchId();
    private readonly Option<bool> _json = CommonSymbols.Json();

    public CancelCommand(CliSession session)
        : base("cancel", "Cancel a batch: no new items start, items in flight are cancelled, and every unfinished item ends "
            + "Cancelled. Prints the batch's state after the request.")
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
        var progress = await client.GetBatch(batchId).CancelAsync(cancellationToken);
        var output = _session.Terminal.Out;
        if (parseResult.GetValue(_json))
        {
            CliJson.Write(output, progress);
        }
        else
        {
            await output.WriteLineAsync(BatchText.ProgressLine(progress).AsMemory(), cancellationToken);
        }

        return ExitCodes.Ok;
    }
}
