namespace Floodgate.Grains.WarmUp;

/// <summary>Defaults and fixed figures of the start-up warm-up, in one place.</summary>
internal static class WarmUpConstants
{
    /// <summary>Processor of the warm-up's items: the built-in echo, which calls nothing outside the silo.</summary>
    public const string Processor = "echo";

    /// <summary>
    /// A round (after the first) that compiles less than this fraction of what the first round compiled settles the
    /// warm-up: the hot path is compiled, what is left is a tail of rarely called methods that keeps trickling in.
    /// </summary>
    public const double SettledFraction = 0.05;

    /// <summary>A round that compiles fewer methods than this settles the warm-up whatever the first round compiled.</summary>
    public const long SettledBelow = 50;

    /// <summary>Longest wait for the JIT to go quiet after a round.</summary>
    public static readonly TimeSpan MaxQuietWait = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for one round's items when progress stops changing (a long poll is at most this long).</summary>
    public static readonly TimeSpan ProgressPoll = TimeSpan.FromSeconds(2);

    /// <summary>Longest the erasing of the warm-up's records may take (it runs even when the warm-up was cancelled).</summary>
    public static readonly TimeSpan EraseTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Pause between asks whether the warm-up's limiter is idle (its leases are released by their items, one call each).</summary>
    public static readonly TimeSpan RetireRetryDelay = TimeSpan.FromMilliseconds(100);
}
