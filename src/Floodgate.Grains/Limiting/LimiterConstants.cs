namespace Floodgate.Grains.Limiting;

/// <summary>Defaults and bounds of the limiter's upstream-facing parts (token budget, backoff, usage), in one place.</summary>
internal static class LimiterConstants
{
    /// <summary>Calls completing without pushback per step back up after a halving (as <c>Batches:IncreaseAfterSuccesses</c>).</summary>
    public const int BackoffIncreaseAfterSuccesses = 10;

    /// <summary>Longest pause taken from an upstream's <c>Retry-After</c> (as <c>Items:MaxRetryAfter</c>).</summary>
    public static readonly TimeSpan BackoffMaxPause = TimeSpan.FromSeconds(120);

    /// <summary>Pause after an upstream 429 that named no wait.</summary>
    public static readonly TimeSpan BackoffDefaultPause = TimeSpan.FromSeconds(1);

    /// <summary>Holders whose usage a limiter tallies; the least recently reported one makes room for a new one.</summary>
    public const int MaxUsageHolders = 1000;
}
