using Floodgate.Cli.Connection;
using Floodgate.Client;

namespace Floodgate.Cli.Tests;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Lines(Stdout);

    public string[] StderrLines => Lines(Stderr);

    public static Task<CliRun> RunAsync(IFloodgateClient client, params string[] args) =>
        RunAsync(new FixedClientProvider(client), args);

    public static Task<CliRun> RunAsync(IFloodgateClientProvider clients, params string[] args) => RunWithInputAsync(clients, string.Empty, args);

    /// <summary>Runs with <paramref name="stdin"/> as standard input.</summary>
    public static async Task<CliRun> RunWithInputAsync(IFloodgateClientProvider clients, string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var terminal = new Floodgate.Cli.Output.Terminal(stdout, stderr) { In = new StringReader(stdin) };
        var exitCode = await FloodgateCli.RunAsync(args, clients, terminal, TimeProvider.System, CancellationToken.None);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}
