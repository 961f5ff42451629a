using System.CommandLine;
using Floodgate.Batches;
using Floodgate.Cli.Output;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate watch &lt;batchId&gt;</c>: live progress until the batch finishes, then a summary.</summary>
internal sealed class WatchCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _batchId = CommonSymbols.BatchId();

    public WatchCommand(CliSession session)
        : base("watch", "Show a batch's progress live until it finishes, then a summary. On a terminal: a progress bar; "
            + "redirected: one progress line per second at most. Exit code 0 when the batch completed, 1 when it was cancelled. "
            + "Ctrl+C stops watching; the batch keeps running.")
    {
        _session = session;
        Arguments.Add(_batchId);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var batchId = CommonSymbols.ReadBatchId(parseResult, _batchId);
        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var display = ProgressDisplay.OnStdout(_session.Terminal, _session.Time);
        var final = await display.FollowAsync(client.GetBatch(batchId), cancellationToken);
        BatchText.WriteSummary(display.Writer, final);
        return final.State == BatchState.Cancelled ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
