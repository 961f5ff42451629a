using Floodgate.Client;
using Floodgate.Client.Http;

namespace Floodgate.Cli.Connection;

/// <summary>
/// The real provider: an Orleans client for gateway mode (<see cref="OrleansClientProvider"/>), a
/// <see cref="FloodgateHttpClient"/> for HTTP mode. Both are made on the first connect and kept until disposed.
/// </summary>
internal sealed class CliClientProvider : IFloodgateClientProvider, IAsyncDisposable
{
    // Above the longest long poll (the HTTP client's PollWait, 10 s); the results stream is not bounded by it.
    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(60);

    private readonly OrleansClientProvider _orleans = new();
    private HttpClient? _http;

    /// <inheritdoc />
    public async Task<IFloodgateOperations> ConnectAsync(CliConnection connection, CancellationToken cancellationToken)
    {
        if (connection.Http is not { } http)
        {
            return await _orleans.ConnectAsync(connection.Gateway!, cancellationToken);
        }

        _http ??= new HttpClient { Timeout = HttpTimeout };
        return new FloodgateHttpClient(_http, http);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        await _orleans.DisposeAsync();
    }
}
