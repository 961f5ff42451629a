using Floodgate.Client;

namespace Floodgate.Cli.Connection;

/// <summary>Hands out a client that is already connected (tests, or a process that hosts its own Orleans client).</summary>
internal sealed class FixedClientProvider(IFloodgateOperations client) : IFloodgateClientProvider
{
    /// <inheritdoc />
    public Task<IFloodgateOperations> ConnectAsync(CliConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult(client);
}
