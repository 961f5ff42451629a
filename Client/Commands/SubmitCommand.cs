using System.CommandLine;
using Floodgate.Batches;
using Floodgate.Cli.Input;
using Floodgate.Cli.Output;
using Floodgate.Client.Batches;
using Floodgate.Validation;

namespace Floodgate.Cli.Commands;

/// <summary>
/// <c>floodgate submit &lt;file&gt;</c>: streams the items of a file (or standard input) to a new batch in chunks; the
/// batch starts running while the rest is still being sent. A file is checked whole first, so nothing is sent when any
/// item is bad; standard input can be read only once, so a bad line there stops the submission and discards the batch.
/// </summary>
internal sealed class SubmitCommand : Command
{
    private readonly CliSession _session;

    private readonly Argument<string> _file = new("file")
    {
        Description = "The items: JSONL (one JSON value per line), CSV with a header row, or plain lines (one string item per non-blank line); - reads standard input (as lines unless --format says otherwise).",
    };

    private readonly Option<string> _processor = new("--processor")
    {
        Description = "The processor the silo runs for each item.",
        DefaultValueFactory = _ => FloodgateDefaults.ProcessorName,
    };

    private readonly Option<string> _limiter = new("--limiter")
    {
        Description = "The global limiter every upstream call of the batch is admitted by.",
        DefaultValueFactory = _ => FloodgateDefaults.LimiterName,
    };

    private readonly Option<int> _localLimit = new("--local-limit")
    {
        Description = "At most this many items of the batch in flight.",
        DefaultValueFactory = _ => FloodgateDefaults.LocalLimit,
    };

    private readonly Option<int?> _globalLimit = new("--global-limit")
    {
        Description = "An explicit limit for the global limiter (the first explicit configuration of a limiter wins).",
    };

    private readonly Option<string[]> _options = new("--option")
    {
        Description = "A processor option as key=value; repeat for several.",
        HelpName = "key=value",
    };

    private readonly Option<string?> _idempotencyKey = new("--idempotency-key")
    {
        Description = "Submitting again with the same key returns the same batch instead of a new one.",
    };

    private readonly Option<string?> _batchId = new("--batch-id")
    {
        Description = "Name the batch instead of letting Floodgate generate an id.",
    };

    private readonly Option<string> _format = new Option<string>("--format")
    {
        Description = "How to read the file; auto goes by extension (.jsonl/.ndjson → jsonl, .csv → csv, else lines).",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong(ItemFileFormats.Names);

    private readonly Option<string?> _csvColumn = new("--csv-column")
    {
        Description = "CSV only: the column whose value (a string) is the item. Default: each row is a JSON object of header → value.",
        HelpName = "name",
    };

    private readonly Option<bool> _watch = new("--watch")
    {
        Description = "Show live progress on stderr until the batch finishes, then a summary.",
    };

    private readonly Option<string?> _out = CommonSymbols.Out("Wait for the batch to finish and write its results, in input order, as JSONL to this file.");

    public SubmitCommand(CliSession session)
        : base("submit", "Submit a batch of items. Prints the batch id as the first and only line on stdout, so "
            + "id=$(floodgate submit words.txt) works; with --watch or --out, progress, warnings and the summary go to stderr. "
            + "Items are sent in chunks as the file is read, so any size works (up to the silo's Batches:MaxItems); a file is checked "
            + "whole before anything is sent. Exit code 1 when a watched or awaited batch ends cancelled.")
    {
        _session = session;
        Arguments.Add(_file);
        Options.Add(_processor);
        Options.Add(_limiter);
        Options.Add(_localLimit);
        Options.Add(_globalLimit);
        Options.Add(_options);
        Options.Add(_idempotencyKey);
        Options.Add(_batchId);
        Options.Add(_format);
        Options.Add(_csvColumn);
        Options.Add(_watch);
        Options.Add(_out);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var (definition, batchId) = ReadDefinition(parseResult);
        var file = parseResult.GetValue(_file)!;
        var format = ItemFileFormats.Parse(parseResult.GetValue(_format) ?? "auto");
        var csvColumn = parseResult.GetValue(_csvColumn);
        var watch = parseResult.GetValue(_watch);
        var outPath = parseResult.GetValue(_out);
        if (outPath is not null)
        {
            ResultsWriter.CheckPath(outPath);
        }

        if (file != ItemFileReader.StandardInput)
        {
            // A file can be read twice: check every item before anything is sent.
            ItemFileReader.Validate(file, format, csvColumn, cancellationToken);
        }

        var terminal = _session.Terminal;
        var items = ItemFileReader.Read(file, format, csvColumn, terminal.In, cancellationToken);
        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var batch = await client.SubmitBatchAsync(definition, items.ToAsyncEnumerable(), batchId, cancellationToken);
        await terminal.Out.WriteLineAsync(batch.Id.AsMemory(), cancellationToken);
        await terminal.Out.FlushAsync(cancellationToken);
        if (!watch && outPath is null)
        {
            foreach (var warning in batch.Submitted?.Warnings ?? [])
            {
                terminal.WriteWarning(warning);
            }

            return ExitCodes.Ok;
        }

        var final = await FollowAsync(batch, watch, outPath, cancellationToken);
        return final.State == BatchState.Cancelled ? ExitCodes.Failed : ExitCodes.Ok;
    }

    /// <summary>Everything the user gave but the items, checked as a whole; throws <see cref="FloodgateValidationException"/>.</summary>
    private (BatchDefinition Definition, string? BatchId) ReadDefinition(ParseResult parseResult)
    {
        var processorOptions = ProcessorOptionParser.Parse(parseResult.GetValue(_options) ?? []);
        var definition = new BatchDefinition
        {
            Processor = parseResult.GetValue(_processor)!,
            ProcessorOptions = processorOptions,
            Limiter = parseResult.GetValue(_limiter)!,
            LocalLimit = parseResult.GetValue(_localLimit),
            GlobalLimit = parseResult.GetValue(_globalLimit),
            IdempotencyKey = parseResult.GetValue(_idempotencyKey),
        };

        var batchId = parseResult.GetValue(_batchId);
        var errors = BatchSpecValidator.Validate(definition, batchId);
        return errors.Count == 0 ? (definition, batchId) : throw new FloodgateValidationException(errors);
    }

    /// <summary>Waits for the batch, showing progress and/or writing results at the same time.</summary>
    private async Task<BatchProgress> FollowAsync(BatchHandle batch, bool watch, string? outPath, CancellationToken cancellationToken)
    {
        var terminal = _session.Terminal;
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var following = watch
            ? ProgressDisplay.OnStderr(terminal, _session.Time).FollowAsync(batch, stopAll.Token)
            : batch.WaitForCompletionAsync(stopAll.Token);
        var writing = outPath is null ? Task.FromResult(0) : ResultsWriter.WriteFileAsync(batch, outPath, stopAll.Token);
        await WhenAllOrFirstFailure(stopAll, following, writing);

        var final = await following;
        if (watch)
        {
            BatchText.WriteSummary(terminal.Error, final);
        }
        else
        {
            foreach (var warning in final.Warnings)
            {
                terminal.WriteWarning(warning);
            }
        }

        if (outPath is not null)
        {
            await terminal.Error.WriteLineAsync($"{await writing} results written to {outPath}".AsMemory(), cancellationToken);
        }

        return final;
    }

    // Following and writing end together when the batch finishes; if one fails, the other has no reason to go on.
    private static async Task WhenAllOrFirstFailure(CancellationTokenSource stopAll, params Task[] tasks)
    {
        var pending = tasks.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (!done.IsCompletedSuccessfully)
            {
                await stopAll.CancelAsync();
                break;
            }
        }

        await Task.WhenAll(tasks);
    }
}
