using Floodgate.ProcessCluster.Processes;

namespace Floodgate.ProcessCluster.LeaseHolders;

/// <summary>
/// A separate client process (<c>Floodgate.LeaseHolder</c>) that takes leases through the HTTP API and keeps renewing
/// them until it is killed: the crashed client whose permits must come back within the lease TTL.
/// </summary>
public sealed class LeaseHolderProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly int _leases;
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _held;

    private LeaseHolderProcess(ChildProcess process, int leases)
    {
        _process = process;
        _leases = leases;
        process.WatchLines(line =>
        {
            if (line.StartsWith("held ", StringComparison.Ordinal) && Interlocked.Increment(ref _held) == _leases)
            {
                _holding.TrySetResult();
            }
        });
    }

    public ChildProcess Process => _process;

    /// <summary>Starts a holder of <paramref name="leases"/> leases of weight 1 with <paramref name="ttl"/>, talking to <paramref name="apis"/> in turn.</summary>
    public static LeaseHolderProcess Start(string logDirectory, string limiter, string holder, int leases, TimeSpan ttl, IEnumerable<Uri> apis)
    {
        var process = ChildProcess.Start(
            holder,
            Programs.Dotnet,
            [Programs.LeaseHolderDll, limiter, holder, leases.ToString(), ((int)ttl.TotalMilliseconds).ToString(), .. apis.Select(u => u.ToString())],
            Path.Combine(logDirectory, $"{holder}.log"));
        return new LeaseHolderProcess(process, leases);
    }

    /// <summary>Waits until the holder printed that it holds all its leases.</summary>
    public async Task WaitHoldingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _holding.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The lease holder got {_held} of {_leases} leases within {timeout.TotalSeconds} s; see {_process.LogPath}:\n{_process.Tail()}");
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
