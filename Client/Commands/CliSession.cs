using System.CommandLine;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Output;
using Floodgate.Client;

namespace Floodgate.Cli.Commands;

/// <summary>What every command shares for one run: where to write, how to connect, and the clock.</summary>
internal sealed class CliSession(GlobalOptions globals, IFloodgateClientProvider clients, Terminal terminal, TimeProvider time)
{
    /// <summary>Where output goes.</summary>
    public Terminal Terminal { get; } = terminal;

    /// <summary>The clock (throttling of plain progress lines).</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>Connects as the global options ask (gateway or HTTP). Call only once the input is known to be valid.</summary>
    public Task<IFloodgateOperations> ConnectAsync(ParseResult parseResult, CancellationToken cancellationToken) =>
        clients.ConnectAsync(globals.Read(parseResult), cancellationToken);
}
