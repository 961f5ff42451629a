namespace Floodgate.Grains.Batches;

/// <summary>Defaults and bounds of <see cref="BatchOptions"/>, in one place.</summary>
internal static class BatchConstants
{
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan MinWriteInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Longer gaps would hold results back for longer than a reader would wait for them.</summary>
    public static readonly TimeSpan MaxMinWriteInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan InFlightCheckInterval = TimeSpan.FromSeconds(30);

    /// <summary>Orleans' default minimum reminder period (<c>ReminderOptions.MinimumReminderPeriod</c>).</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>A start that failed (e.g. addressed to a silo that is stopping) is checked this soon, not at the next in-flight check.</summary>
    public static readonly TimeSpan FailedStartRecheck = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Short on purpose: Orleans deactivates a batch only once no call runs in it, so a long poll would hold up a shutdown
    /// or a move (and every message queued behind it); readers simply poll again.
    /// </summary>
    public static readonly TimeSpan MaxPollWait = TimeSpan.FromSeconds(2);

    public const int IncreaseAfterSuccesses = 10;

    public const int MaxResultPage = 1000;

    public const int DispatchReservation = 64;

    /// <summary>
    /// The reservation grows (doubling) while dispatch outruns the writes, up to this many positions. With write rounds at
    /// least <see cref="MinWriteInterval"/> apart it caps a batch's dispatch rate near this ÷ (interval + write): at 4096
    /// that was about 18,000 items/s, the rate no-op batches were held to; at 16384 about 70,000/s. A successor after a
    /// loss probes the reserved positions without an outcome, so the cap also bounds that work.
    /// </summary>
    public const int MaxDispatchReservation = 16384;

    public const int ChunkSize = 1000;

    public const int MaxChunkSize = 100_000;

    public const int CachedChunks = 8;

    public const int MaxCachedChunks = 1024;

    /// <summary>Upper bound of <c>Batches:MaxItems</c>: positions are 32-bit, and a batch keeps a few bits per open position.</summary>
    public const int MaxMaxItems = 100_000_000;

    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public static readonly TimeSpan MaxRetention = TimeSpan.FromDays(3650);

    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan ReceiveTimeout = TimeSpan.FromMinutes(5);

    public const int IndexCapacity = 10_000;

    public const int MaxIndexCapacity = 1_000_000;

    /// <summary>How long a batch keeps retrying a change of its entry in the list of batches (the index's silo may be failing over).</summary>
    public static readonly TimeSpan IndexUpdateRetry = TimeSpan.FromSeconds(30);
}
