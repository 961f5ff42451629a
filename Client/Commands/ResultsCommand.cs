using System.CommandLine;
using Floodgate.Cli.Output;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate results &lt;batchId&gt;</c>: the outcomes in input order as JSONL, streamed as they become known.</summary>
internal sealed class ResultsCommand : Command
{
    private readonly CliSession _session;
    private readonly Argument<string> _batchId = CommonSymbols.BatchId();
    private readonly Option<string?> _out = CommonSymbols.Out("Write the results to this file instead of stdout.");

    public ResultsCommand(CliSession session)
        : base("results", "Print a batch's outcomes in input order as JSONL, one "
            + "{\"position\",\"status\",\"result\",\"error\",\"attempts\"} object per line, each as soon as every outcome before it is "
            + "known; returns when the last outcome was written.")
    {
        _session = session;
        Arguments.Add(_batchId);
        Options.Add(_out);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var batchId = CommonSymbols.ReadBatchId(parseResult, _batchId);
        var outPath = parseResult.GetValue(_out);
        if (outPath is not null)
        {
            ResultsWriter.CheckPath(outPath);
        }

        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var batch = client.GetBatch(batchId);
        if (outPath is null)
        {
            await ResultsWriter.WriteAsync(batch, _session.Terminal.Out, cancellationToken);
            return ExitCodes.Ok;
        }

        // Ask once before creating the file, so an unknown batch leaves no empty file behind.
        await batch.GetProgressAsync(cancellationToken);
        var count = await ResultsWriter.WriteFileAsync(batch, outPath, cancellationToken);
        await _session.Terminal.Error.WriteLineAsync($"{count} results written to {outPath}".AsMemory(), cancellationToken);
        return ExitCodes.Ok;
    }
}
