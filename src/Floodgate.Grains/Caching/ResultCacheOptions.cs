using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Caching;

/// <summary>
/// The shared result cache (section <c>Floodgate:Cache</c>). A batch opts in with the processor option <c>cache=true</c>;
/// these bound what the cluster keeps.
/// </summary>
public sealed class ResultCacheOptions
{
    public const string SectionName = "Floodgate:Cache";

    /// <summary>How long a result is served from the cache. <value>1 h</value></summary>
    public TimeSpan Ttl { get; set; } = ResultCacheConstants.Ttl;

    /// <summary>Most results kept in the whole cluster (split evenly over the shards; least recently used go first). <value>10 000</value></summary>
    public int MaxEntries { get; set; } = ResultCacheConstants.MaxEntries;

    /// <summary>Largest result cached, in UTF-16 characters of its JSON; larger ones are returned but not kept. <value>65 536</value></summary>
    public int MaxResultLength { get; set; } = ResultCacheConstants.MaxResultLength;

    /// <summary>Cache grains the keys are spread over (each one a single-flight point for its keys). <value>16</value></summary>
    public int Shards { get; set; } = ResultCacheConstants.Shards;

    /// <summary>
    /// How long items asking for a key wait on the item computing it before one of them takes over (the computing item's
    /// silo may have died). Should cover an item's whole run. <value>10 min</value>
    /// </summary>
    public TimeSpan LeadTimeout { get; set; } = ResultCacheConstants.LeadTimeout;

    /// <summary>Longest a single wait call to a cache grain lasts before the caller asks again (below the grain call timeout). <value>10 s</value></summary>
    public TimeSpan WaitSlice { get; set; } = ResultCacheConstants.WaitSlice;

    /// <summary>Results one shard keeps.</summary>
    internal int MaxEntriesPerShard => Math.Max(1, MaxEntries / Shards);
}

/// <summary>Defaults of <see cref="ResultCacheOptions"/>, in one place.</summary>
internal static class ResultCacheConstants
{
    public static readonly TimeSpan Ttl = TimeSpan.FromHours(1);
    public const int MaxEntries = 10_000;
    public const int MaxResultLength = 64 * 1024;
    public const int Shards = 16;
    public static readonly TimeSpan LeadTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan WaitSlice = TimeSpan.FromSeconds(10);
}

internal sealed class ResultCacheOptionsValidator : IValidateOptions<ResultCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, ResultCacheOptions o)
    {
        const string S = ResultCacheOptions.SectionName;
        var errors = new List<string>();
        if (o.Ttl <= TimeSpan.Zero)
        {
            errors.Add($"{S}:Ttl must be positive.");
        }

        if (o.Shards is < 1 or > 1024)
        {
            errors.Add($"{S}:Shards must be between 1 and 1024.");
        }

        if (o.MaxEntries < o.Shards)
        {
            errors.Add($"{S}:MaxEntries must be at least {S}:Shards.");
        }

        if (o.MaxResultLength <= 0)
        {
            errors.Add($"{S}:MaxResultLength must be positive.");
        }

        if (o.LeadTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{S}:LeadTimeout must be positive.");
        }

        if (o.WaitSlice <= TimeSpan.Zero || o.WaitSlice > TimeSpan.FromSeconds(25))
        {
            errors.Add($"{S}:WaitSlice must be positive and at most 25 s (grain calls time out after 30 s).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
