using Floodgate.Grains.Items;

namespace Floodgate.Grains.Caching;

/// <summary>
/// Runs an item's processing through the shared cache when its batch asked for it (processor option <c>cache=true</c>):
/// a cached result costs no upstream call; of concurrent identical items anywhere in the cluster one computes and the
/// others wait for its result. The cache never fails an item: when a cache grain cannot be reached, the item computes.
/// </summary>
internal sealed class ItemResultCache(SharedResultCache cache)
{
    /// <summary>The result JSON and whether it came from the cache (the item made no upstream call).</summary>
    public async Task<(string ResultJson, bool Cached)> RunAsync(ItemWork work, Func<Task<string>> compute, CancellationToken cancellationToken)
    {
        if (!ResultCaching.IsEnabled(work.ProcessorOptions))
        {
            return (await compute(), false);
        }

        var key = ResultCaching.Key(work.Processor, work.ProcessorOptions, work.ItemJson);
        await using var turn = await cache.TakeTurnAsync(key, $"{work.ItemKey}#{Guid.NewGuid():N}", cancellationToken);
        if (turn.Kind == CacheTurnKind.Hit)
        {
            return (turn.ResultJson!, true);
        }

        // A failing computation leaves the turn uncompleted: disposing it abandons the lead, so the next item leads.
        var result = await compute();
        await turn.CompleteAsync(result);
        return (result, false);
    }
}
