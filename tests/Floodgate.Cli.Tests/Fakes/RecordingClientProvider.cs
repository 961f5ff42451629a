using Floodgate.Cli.Connection;
using Floodgate.Client;

namespace Floodgate.Cli.Tests.Fakes;

/// <summary>Records every connect; hands out a fixed client or throws a fixed exception.</summary>
internal sealed class RecordingClientProvider(IFloodgateOperations? client = null, Exception? failure = null) : IFloodgateClientProvider
{
    public List<CliConnection> Connects { get; } = [];

    public Task<IFloodgateOperations> ConnectAsync(CliConnection connection, CancellationToken cancellationToken)
    {
        Connects.Add(connection);
        if (failure is not null)
        {
            return Task.FromException<IFloodgateOperations>(failure);
        }

        return Task.FromResult<IFloodgateOperations>(client ?? new FakeFloodgateClient());
    }
}
