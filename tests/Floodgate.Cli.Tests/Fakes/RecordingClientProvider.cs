using Floodgate.Cli.Connection;
using Floodgate.Client;
using Floodgate.Client.Hosting;

namespace Floodgate.Cli.Tests.Fakes;

/// <summary>Records every connect; hands out a fixed client or throws a fixed exception.</summary>
internal sealed class RecordingClientProvider(IFloodgateClient? client = null, Exception? failure = null) : IFloodgateClientProvider
{
    public List<FloodgateConnectionOptions> Connects { get; } = [];

    public Task<IFloodgateClient> ConnectAsync(FloodgateConnectionOptions connection, CancellationToken cancellationToken)
    {
        Connects.Add(connection);
        if (failure is not null)
        {
            return Task.FromException<IFloodgateClient>(failure);
        }

        return Task.FromResult(client ?? new FakeFloodgateClient());
    }
}
