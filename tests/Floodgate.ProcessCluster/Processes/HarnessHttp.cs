namespace Floodgate.ProcessCluster.Processes;

/// <summary>The harness's one HTTP client (loopback only). Every call brings its own timeout; none is unbounded.</summary>
public static class HarnessHttp
{
    public static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        // A killed silo leaves dead pooled connections behind; do not keep them long.
        PooledConnectionLifetime = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>A token that fires after <paramref name="timeout"/> or with <paramref name="cancellationToken"/>.</summary>
    public static CancellationTokenSource Within(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        return cts;
    }
}
