using Floodgate.Client;
using Floodgate.Client.Formatting;
using Floodgate.Client.Hosting;
using Floodgate.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Floodgate.Cli.Connection;

/// <summary>
/// Gateway mode: an Orleans client host built with <see cref="FloodgateClientServiceCollectionExtensions.UseFloodgateClient"/>,
/// started on the first connect and kept alive until disposed.
/// </summary>
internal sealed class OrleansClientProvider : IAsyncDisposable
{
    // A CLI must fail fast: one attempt per gateway, each bounded, and the whole connect bounded too.
    private static readonly TimeSpan OpenConnectionTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private IHost? _host;

    /// <summary>Connects to the cluster; throws <see cref="ClusterUnreachableException"/> when no gateway answers.</summary>
    public async Task<IFloodgateClient> ConnectAsync(FloodgateConnectionOptions connection, CancellationToken cancellationToken)
    {
        if (_host is not null)
        {
            return _host.Services.GetRequiredService<IFloodgateClient>();
        }

        // An empty builder: no appsettings, no console logging mixed into the command's output.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseFloodgateClient(target =>
        {
            target.Gateways = connection.Gateways;
            target.ClusterId = connection.ClusterId;
            target.ServiceId = connection.ServiceId;
        });
        builder.Services.Configure<ConnectionOptions>(o => o.OpenConnectionTimeout = OpenConnectionTimeout);
        builder.Services.AddSingleton<IClientConnectionRetryFilter, NoConnectionRetry>();

        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is not FloodgateValidationException)
        {
            await StopAsync(host);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            throw ex is OperationCanceledException
                ? new ClusterUnreachableException($"no answer within {ProgressText.Format(ConnectTimeout)}", ex)
                : new ClusterUnreachableException(ConnectionFailures.ShortReason(ex), ex);
        }

        _host = host;
        return host.Services.GetRequiredService<IFloodgateClient>();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_host is { } host)
        {
            _host = null;
            await StopAsync(host);
        }
    }

    private static async Task StopAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (Exception)
        {
            // Stopping a client that never connected, or lost its gateway, may fail; the process is exiting anyway.
        }

        host.Dispose();
    }

    private sealed class NoConnectionRetry : IClientConnectionRetryFilter
    {
        public Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken) =>
            Task.FromResult(false);
    }
}
