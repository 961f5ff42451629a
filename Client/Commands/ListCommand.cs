using System.CommandLine;
using System.Globalization;
using Floodgate.Batches;
using Floodgate.Cli.Output;
using Floodgate.Validation;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate list</c>: one page of the batches the cluster knows, newest first.</summary>
internal sealed class ListCommand : Command
{
    private static readonly string[] StateNames = Enum.GetNames<BatchState>().Select(n => n.ToLowerInvariant()).ToArray();

    private readonly CliSession _session;

    private readonly Option<string?> _state = new Option<string?>("--state")
    {
        Description = "Only batches in this state.",
        HelpName = "state",
    }.AcceptOnlyFromAmong(StateNames);

    private readonly Option<int> _limit = new("--limit")
    {
        Description = $"Most batches to show (1 to {BatchListQuery.MaxLimit}).",
        DefaultValueFactory = _ => BatchListQuery.DefaultLimit,
    };

    private readonly Option<string?> _after = new("--after")
    {
        Description = "Show the page after this cursor (printed at the end of the previous page).",
        HelpName = "cursor",
    };

    private readonly Option<bool> _json = CommonSymbols.Json();

    public ListCommand(CliSession session)
        : base("list", "List batches (submitted and not yet expired), newest first: id, state, progress, failures, submission time. "
            + "When more follow, the command for the next page goes to stderr.")
    {
        _session = session;
        Options.Add(_state);
        Options.Add(_limit);
        Options.Add(_after);
        Options.Add(_json);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var state = parseResult.GetValue(_state) is { } name ? Enum.Parse<BatchState>(name, ignoreCase: true) : (BatchState?)null;
        var query = new BatchListQuery(state, parseResult.GetValue(_limit), parseResult.GetValue(_after));
        var errors = query.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        var client = await _session.ConnectAsync(parseResult, cancellationToken);
        var page = await client.ListBatchesAsync(query, cancellationToken);
        var terminal = _session.Terminal;
        if (parseResult.GetValue(_json))
        {
            CliJson.Write(terminal.Out, page);
        }
        else
        {
            Write(terminal.Out, page.Batches);
        }

        if (page.Next is { } next)
        {
            var stateOption = state is null ? string.Empty : $" --state {BatchText.StateName(state.Value)}";
            terminal.Error.WriteLine($"more: floodgate list{stateOption} --limit {query.Limit} --after {next}");
        }

        return ExitCodes.Ok;
    }

    private static void Write(TextWriter writer, IReadOnlyList<BatchSummary> batches)
    {
        if (batches.Count == 0)
        {
            writer.WriteLine("no batches");
            return;
        }

        var idWidth = Math.Max("BATCH".Length, batches.Max(b => b.BatchId.Length));
        writer.WriteLine($"{"BATCH".PadRight(idWidth)}  {"STATE",-10}  {"DONE/TOTAL",-21}  {"FAILED",9}  SUBMITTED");
        foreach (var b in batches)
        {
            var done = string.Create(CultureInfo.InvariantCulture, $"{b.Done}/{b.Total}");
            var submitted = b.SubmittedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{b.BatchId.PadRight(idWidth)}  {BatchText.StateName(b.State),-10}  {done,-21}  {b.Failed,9}  {submitted}"));
        }
    }
}
