namespace Floodgate.Grains.Caching;

/// <summary>One shard of the shared result cache (key: shard number). Grain-to-grain protocol of item grains.</summary>
[Alias("Floodgate.IResultCacheGrain")]
internal interface IResultCacheGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The result of <paramref name="key"/>, or <see cref="CacheAnswerKind.Lead"/> (compute it, then complete or abandon),
    /// or after waiting up to the wait slice for another caller's result, <see cref="CacheAnswerKind.Pending"/> (ask again).
    /// </summary>
    [Alias("Lookup")]
    Task<CacheAnswer> LookupAsync(string key, string claimant);

    /// <summary>Stores the leader's result and wakes the callers waiting for it.</summary>
    [Alias("Complete")]
    Task CompleteAsync(string key, string claimant, string resultJson);

    /// <summary>The leader could not compute the result; the next caller leads.</summary>
    [Alias("Abandon")]
    Task AbandonAsync(string key, string claimant);
}

/// <summary>A cache grain's answer to a lookup.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.CacheAnswer")]
internal sealed record CacheAnswer([property: Id(0)] CacheAnswerKind Kind, [property: Id(1)] string? ResultJson);

/// <summary>The kinds of <see cref="CacheAnswer"/>.</summary>
internal enum CacheAnswerKind
{
    Hit = 0,
    Lead = 1,
    Pending = 2,
}
