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

    /// <summary>The reservation grows (doubling) while dispatch outruns the writes, up to this many positions.</summary>
    public const int MaxDispatchReservation = 4096;
}
