using Floodgate.Items;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Caching;

/// <summary>
/// Runs an item's processing through the shared cache when its batch asked for it (processor option <c>cache=true</c>):
/// a cached result costs no upstream call; of concurrent identical items anywhere in the cluster one computes and the
/// others wait for its result. The cache never fails an item: when a cache grain cannot be reached, the item computes.
/// Must be called on the item grain's scheduler (it calls grains).
/// </summary>
internal sealed partial class ItemResultCache(IOptions<ResultCacheOptions> options, ILogger<ItemResultCache> logger)
{
    /// <summary>The result JSON and whether it came from the cache (the item made no upstream call).</summary>
    public async Task<(string ResultJson, bool Cached)> RunAsync(
        IGrainFactory grains, ItemWork work, Func<Task<string>> compute, CancellationToken cancellationToken)
    {
        if (!ResultCaching.IsEnabled(work.ProcessorOptions))
        {
            return (await compute(), false);
        }

        var key = ResultCaching.Key(work.Processor, work.ProcessorOptions, work.ItemJson);
        var shard = grains.GetGrain<IResultCacheGrain>(ResultCaching.Shard(key, options.Value.Shards));
        var claimant = $"{work.ItemKey}#{Guid.NewGuid():N}";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CacheAnswer answer;
            try
            {
                answer = await shard.LookupAsync(key, claimant).WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCacheUnavailable(ex, work.BatchId, work.Position);
                return (await compute(), false);
            }

            switch (answer.Kind)
            {
                case CacheAnswerKind.Hit:
                    return (answer.ResultJson!, true);
                case CacheAnswerKind.Lead:
                    return (await LeadAsync(shard, key, claimant, compute), false);
            }
        }
    }

    private async Task<string> LeadAsync(IResultCacheGrain shard, string key, string claimant, Func<Task<string>> compute)
    {
        string result;
        try
        {
            result = await compute();
        }
        catch
        {
            await QuietlyAsync(() => shard.AbandonAsync(key, claimant));
            throw;
        }

        await QuietlyAsync(() => shard.CompleteAsync(key, claimant, result));
        return result;
    }

    /// <summary>A cache write that fails only costs a later miss (waiters take over after the lead timeout).</summary>
    private async Task QuietlyAsync(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception ex)
        {
            LogCacheWriteFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Item {BatchId}/{Position}: the result cache is unreachable; computing without it")]
    private partial void LogCacheUnavailable(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write to the result cache")]
    private partial void LogCacheWriteFailed(Exception ex);
}
