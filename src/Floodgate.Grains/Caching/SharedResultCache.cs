using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Caching;

/// <summary>
/// The shared cache's single-flight protocol for any caller on a silo (item grains, the gateway): take a turn for a key
/// (see <see cref="ResultCaching.Key"/>) and get either the cached result or the lead — compute the result, then
/// <see cref="CacheTurn.CompleteAsync"/> it, or dispose the turn to let the next caller lead. Of concurrent callers of
/// one key anywhere in the cluster one leads and the others wait for its result. The cache never fails a caller: when a
/// cache grain cannot be reached the turn is <see cref="CacheTurnKind.Bypass"/> (compute without the cache).
/// </summary>
public sealed partial class SharedResultCache(IGrainFactory grains, IOptions<ResultCacheOptions> options, ILogger<SharedResultCache> logger)
{
    /// <summary>Largest result kept, in UTF-16 characters (larger ones are not stored; their waiters compute their own).</summary>
    public int MaxResultLength => options.Value.MaxResultLength;

    /// <summary>
    /// Waits for <paramref name="claimant"/>'s turn at <paramref name="key"/>: a hit, the lead, or a bypass. A caller must
    /// dispose the turn (a lead that was not completed is abandoned then).
    /// </summary>
    /// <param name="key">The cache key (<see cref="ResultCaching.Key"/>).</param>
    /// <param name="claimant">Names the caller uniquely (the shard tells callers apart by it); it appears in logs, so no secrets.</param>
    /// <param name="cancellationToken">Stops waiting for another caller's result.</param>
    public async Task<CacheTurn> TakeTurnAsync(string key, string claimant, CancellationToken cancellationToken)
    {
        var shard = grains.GetGrain<IResultCacheGrain>(ResultCaching.Shard(key, options.Value.Shards));
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
                LogCacheUnavailable(ex, claimant);
                return new CacheTurn(CacheTurnKind.Bypass, null, null);
            }

            switch (answer.Kind)
            {
                case CacheAnswerKind.Hit:
                    return new CacheTurn(CacheTurnKind.Hit, answer.ResultJson, null);
                case CacheAnswerKind.Lead:
                    return new CacheTurn(CacheTurnKind.Lead, null, new CacheLead(shard, key, claimant, this));
            }
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Claimant}: the result cache is unreachable; computing without it")]
    private partial void LogCacheUnavailable(Exception ex, string claimant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write to the result cache")]
    private partial void LogCacheWriteFailed(Exception ex);

    /// <summary>The leader's side of a flight: complete with the result or abandon.</summary>
    internal sealed class CacheLead(IResultCacheGrain shard, string key, string claimant, SharedResultCache cache)
    {
        private int _settled;

        public Task CompleteAsync(string resultJson) =>
            Interlocked.Exchange(ref _settled, 1) == 0 ? cache.QuietlyAsync(() => shard.CompleteAsync(key, claimant, resultJson)) : Task.CompletedTask;

        public Task AbandonAsync() =>
            Interlocked.Exchange(ref _settled, 1) == 0 ? cache.QuietlyAsync(() => shard.AbandonAsync(key, claimant)) : Task.CompletedTask;
    }
}

/// <summary>A caller's turn at a cache key (<see cref="SharedResultCache.TakeTurnAsync"/>); dispose it when done.</summary>
public sealed class CacheTurn : IAsyncDisposable
{
    private readonly SharedResultCache.CacheLead? _lead;

    internal CacheTurn(CacheTurnKind kind, string? resultJson, SharedResultCache.CacheLead? lead)
    {
        Kind = kind;
        ResultJson = resultJson;
        _lead = lead;
    }

    /// <summary>What the caller does: use <see cref="ResultJson"/>, compute and complete, or compute without the cache.</summary>
    public CacheTurnKind Kind { get; }

    /// <summary>The cached result of a <see cref="CacheTurnKind.Hit"/>.</summary>
    public string? ResultJson { get; }

    /// <summary>Stores the leader's result and wakes the callers waiting for it (nothing for a hit or a bypass).</summary>
    public Task CompleteAsync(string resultJson) => _lead?.CompleteAsync(resultJson) ?? Task.CompletedTask;

    /// <summary>A lead that was not completed is abandoned: the next caller of the key leads.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_lead is not null)
        {
            await _lead.AbandonAsync();
        }
    }
}

/// <summary>The kinds of <see cref="CacheTurn"/>.</summary>
public enum CacheTurnKind
{
    /// <summary>The result was cached (no upstream call needed).</summary>
    Hit,

    /// <summary>This caller computes the result, then completes the turn; others wait for it.</summary>
    Lead,

    /// <summary>The cache could not be reached: compute without it.</summary>
    Bypass,
}
