using Floodgate.ProcessCluster.Api;
using Floodgate.ProcessCluster.Cluster;

namespace Floodgate.Bench.Failover;

/// <summary>
/// Keeps a batch running under the limiter, so each fault hits a limiter that holds permits and has waiters: before a
/// fault, a new batch replaces one that finished (items that fail fast during an outage can empty a batch early).
/// </summary>
internal sealed class BatchLoad(FloodgateProcessCluster cluster, string limiter, Action<string> log)
{
    private const int Items = 2_000;
    private readonly List<string> _batches = [];

    /// <summary>Batches submitted so far.</summary>
    public int Batches => _batches.Count;

    public async Task EnsureRunningAsync()
    {
        if (_batches.Count > 0 && await ProgressAsync(_batches[^1]) is { IsFinished: false } running)
        {
            log($"load: batch {running.BatchId} {running.Done}/{running.Total} done, {running.Failed} failed");
            return;
        }

        var batchId = $"bench-failover-load-{_batches.Count + 1}";
        await cluster.AnyApi().SubmitBatchAsync(new
        {
            batchId,
            items = Enumerable.Range(0, Items).Select(i => $"prompt {i}").ToArray(),
            processor = "openai-chat",
            limiter,
            localLimit = 8,
        });
        _batches.Add(batchId);
        log($"load: submitted batch {batchId} ({Items} items)");

        // Under way, with permits held, before the fault.
        for (var attempt = 0; attempt < 120 && await ProgressAsync(batchId) is not { Done: >= 20 }; attempt++)
        {
            await Task.Delay(250);
        }
    }

    /// <summary>Items finished and failed across all batches (through a running silo).</summary>
    public async Task<(int Done, int Failed)> TotalsAsync()
    {
        var (done, failed) = (0, 0);
        foreach (var batchId in _batches)
        {
            if (await ProgressAsync(batchId) is { } progress)
            {
                done += progress.Done;
                failed += progress.Failed;
            }
        }

        return (done, failed);
    }

    private async Task<BatchSnapshot?> ProgressAsync(string batchId)
    {
        foreach (var api in cluster.RunningApis())
        {
            try
            {
                return await api.GetBatchAsync(batchId);
            }
            catch (Exception ex) when (ex is ApiCallException or HttpRequestException or OperationCanceledException)
            {
                // Next silo.
            }
        }

        return null;
    }
}
