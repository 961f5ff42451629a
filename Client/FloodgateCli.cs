using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Floodgate.Cli.Commands;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Output;

namespace Floodgate.Cli;

/// <summary>
/// The <c>floodgate</c> command line, runnable in-process: the caller chooses the client provider and the writers, so
/// tests run every command against a fake or an in-process cluster and read what it printed.
/// </summary>
internal static class FloodgateCli
{
    private const string ExecutableName = "floodgate";

    /// <summary>Runs one command line with non-interactive output (plain progress lines, no colours) and the system clock.</summary>
    public static Task<int> RunAsync(string[] args, IFloodgateClientProvider clients, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, clients, new Terminal(stdout, stderr), TimeProvider.System, cancellationToken);

    /// <summary>Runs one command line; returns its exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, IFloodgateClientProvider clients, Terminal terminal, TimeProvider time, CancellationToken cancellationToken)
    {
        var globals = new GlobalOptions(
            Environment.GetEnvironmentVariable(GlobalOptions.GatewayVariable),
            Environment.GetEnvironmentVariable(GlobalOptions.UrlVariable),
            Environment.GetEnvironmentVariable(GlobalOptions.ApiKeyVariable));
        var root = CreateRootCommand(globals, new CliSession(globals, clients, terminal, time));
        // No response files: '@' is legal in names (client@host), so "@x" must stay a plain argument.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Action is ParseErrorAction)
        {
            var messages = parseResult.Errors.Select(error => error.Message).Distinct();
            terminal.WriteError($"{string.Join(" ", messages)} (see {CommandPath(parseResult)} --help)");
            return ExitCodes.BadInput;
        }

        try
        {
            var invocation = new InvocationConfiguration
            {
                Output = terminal.Out,
                Error = terminal.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Ctrl+C is the caller's: it cancels cancellationToken.
            };
            return await parseResult.InvokeAsync(invocation, cancellationToken);
        }
        catch (Exception ex)
        {
            return CommandErrors.Report(ex, terminal, globals.Target(parseResult), cancellationToken);
        }
    }

    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (SymbolResult? result = parseResult.CommandResult; result is CommandResult command; result = command.Parent)
        {
            names.Add(command.Parent is null ? ExecutableName : command.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    private static RootCommand CreateRootCommand(GlobalOptions globals, CliSession session)
    {
        var root = new RootCommand(
            "floodgate: submit batches to a Floodgate cluster, follow them, read their ordered results, and inspect or "
            + "change global limiters. Exit codes: 0 ok; 1 a watched/awaited batch ended cancelled (or an unexpected error); "
            + "2 bad input or usage (nothing was sent); 3 the cluster could not be reached; 4 not found; 5 API key missing or not valid "
            + "(HTTP 401); 6 API key lacks the role (HTTP 403); 7 not possible in the batch's state (retry of a running batch); "
            + "130 interrupted. Inside the cluster network commands use the Orleans gateway (--gateway); from anywhere else, the silo's HTTP API (--url and --api-key, or $FLOODGATE_URL and $FLOODGATE_API_KEY).");
        globals.AddTo(root);
        root.Subcommands.Add(new SubmitCommand(session));
        root.Subcommands.Add(new WatchCommand(session));
        root.Subcommands.Add(new ResultsCommand(session));
        root.Subcommands.Add(new StatusCommand(session));
        root.Subcommands.Add(new CancelCommand(session));
        root.Subcommands.Add(new ListCommand(session));
        root.Subcommands.Add(new RetryCommand(session));
        root.Subcommands.Add(new LimiterCommand(session));
        return root;
    }
}
