using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Caching;

/// <summary>
/// A shell over one <see cref="ResultCacheTable"/> shard, in memory (a cache: a lost shard is only a miss). One
/// activation per shard in the cluster makes it the single-flight point for its keys across batches and silos. Reentrant:
/// a lookup waiting for a leader must not hold up the leader's <see cref="CompleteAsync"/>.
/// </summary>
[Orleans.Concurrency.Reentrant]
internal sealed class ResultCacheGrain(IOptions<ResultCacheOptions> options, TimeProvider time) : Grain, IResultCacheGrain
{
    private readonly ResultCacheTable _table = new(options.Value, time);

    public async Task<CacheAnswer> LookupAsync(string key, string claimant)
    {
        var lookup = _table.Lookup(key, claimant);
        if (lookup.Changed is { } changed)
        {
            // Interleaved: while this call waits, the leader's Complete runs. The caller asks again afterwards.
            await Task.WhenAny(changed, Task.Delay(options.Value.WaitSlice, time));
            lookup = changed.IsCompleted ? _table.Lookup(key, claimant) : CacheLookup.Pending;
        }

        return lookup.Kind switch
        {
            CacheLookupKind.Hit => new CacheAnswer(CacheAnswerKind.Hit, lookup.ResultJson),
            CacheLookupKind.Lead => new CacheAnswer(CacheAnswerKind.Lead, null),
            _ => new CacheAnswer(CacheAnswerKind.Pending, null),
        };
    }

    public Task CompleteAsync(string key, string claimant, string resultJson)
    {
        _table.Complete(key, claimant, resultJson);

        // Idle collection would drop the results before their TTL.
        DelayDeactivation(options.Value.Ttl);
        return Task.CompletedTask;
    }

    public Task AbandonAsync(string key, string claimant)
    {
        _table.Abandon(key, claimant);
        return Task.CompletedTask;
    }
}
