using Floodgate.Client;
using Floodgate.Client.Hosting;

namespace Floodgate.Cli.Connection;

/// <summary>
/// Gives a command its <see cref="IFloodgateClient"/>. Commands call it only after their input is valid, so bad input
/// never touches the cluster. The client stays usable until the provider is disposed by whoever created it.
/// </summary>
internal interface IFloodgateClientProvider
{
    /// <summary>Connects to the cluster; throws <see cref="ClusterUnreachableException"/> when no gateway answers.</summary>
    Task<IFloodgateClient> ConnectAsync(FloodgateConnectionOptions connection, CancellationToken cancellationToken);
}
