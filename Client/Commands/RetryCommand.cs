using System.CommandLine;
using Floodgate.Batches;
using Floodgate.Cli.Output;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate retry &lt;batchId&gt;</c>: runs the failed items of a finished batch again, in place.</summary>
internal sealed class RetryCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _batchId = CommonSymbols.BatchId();
    private readonly Option<bool> _watch = new("--watch") { Description = "Show live progress on stderr until the batch finishes again, then a summary." };
    private readonly Option<bool> _json = CommonSymbols.Json();

    public RetryCommand(CliSession session)
        : base("retry", "Run the failed items of a finished batch again, in place: same positions, results stay in input order "
            + "(read them again with results). Prints the batch's state after the request. Exit code 7 when the batch is still "
            + "running, was cancelled or has no failed item.")
    {
        _session = session;
        Arguments.Add(_batchId);
        Options.Add(_watch);
        Options.Add(_json);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var batchId = CommonSymbols.ReadBatchId(parseResult, _batchId);
        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var batch = client.GetBatch(batchId);
        var progress = await batch.RetryFailedAsync(cancellationToken);
        var terminal = _session.Terminal;
        if (parseResult.GetValue(_json))
        {
            CliJson.Write(terminal.Out, progress);
        }
        else
        {
            await terminal.Out.WriteLineAsync(
                $"{batchId} retrying {progress.Pending} failed item(s) (round {progress.RetryRounds})".AsMemory(), cancellationToken);
        }

        if (!parseResult.GetValue(_watch))
        {
            return ExitCodes.Ok;
        }

        var final = await ProgressDisplay.OnStderr(terminal, _session.Time).FollowAsync(batch, cancellationToken);
        BatchText.WriteSummary(terminal.Error, final);
        return final.State == BatchState.Cancelled ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
