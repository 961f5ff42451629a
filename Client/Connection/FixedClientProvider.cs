using Floodgate.Client;
using Floodgate.Client.Hosting;

namespace Floodgate.Cli.Connection;

/// <summary>Hands out a client that is already connected (tests, or a process that hosts its own Orleans client).</summary>
internal sealed class FixedClientProvider(IFloodgateClient client) : IFloodgateClientProvider
{
    /// <inheritdoc />
    public Task<IFloodgateClient> ConnectAsync(FloodgateConnectionOptions connection, CancellationToken cancellationToken) =>
        Task.FromResult(client);
}
