using Floodgate.Client;

namespace Floodgate.Cli.Connection;

/// <summary>
/// Gives a command its <see cref="IFloodgateOperations"/>: the Orleans SDK or the HTTP client, as the connection asks.
/// Commands call it only after their input is valid, so bad input never touches the cluster. The client stays usable
/// until the provider is disposed by whoever created it.
/// </summary>
internal interface IFloodgateClientProvider
{
    /// <summary>Connects; throws <see cref="ClusterUnreachableException"/> when no gateway answers.</summary>
    Task<IFloodgateOperations> ConnectAsync(CliConnection connection, CancellationToken cancellationToken);
}
