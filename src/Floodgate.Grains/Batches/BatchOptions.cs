using Microsoft.Extensions.Options;
using Orleans.Hosting;

namespace Floodgate.Grains.Batches;

/// <summary>How batches run (section <c>Floodgate:Batches</c>).</summary>
public sealed class BatchOptions
{
    public const string SectionName = "Floodgate:Batches";

    /// <summary>After a failed write of a batch's record, the next try waits this long.</summary>
    /// <value>2 s.</value>
    public TimeSpan CheckpointInterval { get; set; } = BatchConstants.CheckpointInterval;

    /// <summary>
    /// Shortest gap between two rounds of writes of one batch (its changed outcome chunks, then its small record).
    /// Outcomes are readable once written, so this bounds both the write rate and the added result latency.
    /// </summary>
    /// <value>200 ms.</value>
    public TimeSpan MinWriteInterval { get; set; } = BatchConstants.MinWriteInterval;

    /// <summary>After a rate-limit halving, the effective local limit grows by one per this many successes (AIMD).</summary>
    /// <value>10.</value>
    public int IncreaseAfterSuccesses { get; set; } = BatchConstants.IncreaseAfterSuccesses;

    /// <summary>
    /// Longest a watcher or result reader waits in one call for something new (the SDK polls again). Keep it short: a
    /// batch activation cannot deactivate (shutdown, move) while such a call is held.
    /// </summary>
    /// <value>2 s.</value>
    public TimeSpan MaxPollWait { get; set; } = BatchConstants.MaxPollWait;

    /// <summary>
    /// Items in flight longer than this are asked whether they still run; those that do not (their start or their silo
    /// was lost) run again. Calls are at-least-once; outcomes stay exactly-once.
    /// </summary>
    /// <value>30 s.</value>
    public TimeSpan InFlightCheckInterval { get; set; } = BatchConstants.InFlightCheckInterval;

    /// <summary>
    /// Period of the reminder an unfinished batch holds, so that it is activated again (and finishes) after its silo
    /// died even if nobody calls it. At least the silo's <c>ReminderOptions.MinimumReminderPeriod</c>.
    /// </summary>
    /// <value>1 min.</value>
    public TimeSpan ReminderPeriod { get; set; } = BatchConstants.ReminderPeriod;

    /// <summary>
    /// Positions a batch reserves per write for dispatch (at least twice its local limit; more while dispatch outruns
    /// the writes). After a loss, the successor asks each reserved position without an outcome whether it still runs.
    /// </summary>
    /// <value>64.</value>
    public int DispatchReservation { get; set; } = BatchConstants.DispatchReservation;

    /// <summary>Most outcomes returned by one results call.</summary>
    /// <value>1000.</value>
    public int MaxResultPage { get; set; } = BatchConstants.MaxResultPage;

    /// <summary>
    /// Items per storage chunk: a batch's items are written in chunks of this many as they arrive (once), and its
    /// outcomes in chunks of this many (only the chunks that changed). Fixed per batch when it is created.
    /// </summary>
    /// <value>1000.</value>
    public int ChunkSize { get; set; } = BatchConstants.ChunkSize;

    /// <summary>Chunks of items, and of outcomes, one batch keeps in memory for dispatch and readers (more are read again when needed).</summary>
    /// <value>8.</value>
    public int CachedChunks { get; set; } = BatchConstants.CachedChunks;

    /// <summary>Most items one batch may hold.</summary>
    /// <value>10,000,000.</value>
    public int MaxItems { get; set; } = FloodgateDefaults.MaxBatchItems;

    /// <summary>
    /// How long a finished batch is kept after its last outcome; then its record and every chunk are deleted from storage
    /// (BullMQ's <c>removeOnComplete</c>), and the batch is gone from the list.
    /// </summary>
    /// <value>7 days.</value>
    public TimeSpan Retention { get; set; } = BatchConstants.Retention;

    /// <summary>A finished batch that nobody asked anything for this long leaves memory (it is read from storage again when asked).</summary>
    /// <value>2 min.</value>
    public TimeSpan IdleTimeout { get; set; } = BatchConstants.IdleTimeout;

    /// <summary>A streamed submission that sends no chunk for this long is abandoned: the batch is discarded, as if never submitted.</summary>
    /// <value>5 min.</value>
    public TimeSpan ReceiveTimeout { get; set; } = BatchConstants.ReceiveTimeout;

    /// <summary>Most batches the list of batches holds; beyond it the oldest finished ones leave the list (not storage).</summary>
    /// <value>10,000.</value>
    public int IndexCapacity { get; set; } = BatchConstants.IndexCapacity;
}

internal sealed class BatchOptionsValidator(IOptions<ReminderOptions> reminders) : IValidateOptions<BatchOptions>
{
    public ValidateOptionsResult Validate(string? name, BatchOptions o)
    {
        var errors = new List<string>();
        if (o.CheckpointInterval <= TimeSpan.Zero)
        {
            errors.Add($"{BatchOptions.SectionName}:CheckpointInterval must be positive.");
        }

        if (o.MinWriteInterval < TimeSpan.Zero || o.MinWriteInterval > BatchConstants.MaxMinWriteInterval)
        {
            errors.Add($"{BatchOptions.SectionName}:MinWriteInterval must be between 0 and {BatchConstants.MaxMinWriteInterval.TotalSeconds} s.");
        }

        if (o.IncreaseAfterSuccesses < 1)
        {
            errors.Add($"{BatchOptions.SectionName}:IncreaseAfterSuccesses must be at least 1.");
        }

        if (o.MaxPollWait <= TimeSpan.Zero)
        {
            errors.Add($"{BatchOptions.SectionName}:MaxPollWait must be positive.");
        }

        if (o.InFlightCheckInterval <= TimeSpan.Zero)
        {
            errors.Add($"{BatchOptions.SectionName}:InFlightCheckInterval must be positive.");
        }

        var minimumReminderPeriod = reminders.Value.MinimumReminderPeriod;
        if (o.ReminderPeriod <= TimeSpan.Zero || o.ReminderPeriod < minimumReminderPeriod)
        {
            // Orleans refuses to register a reminder with a shorter period.
            errors.Add($"{BatchOptions.SectionName}:ReminderPeriod must be positive and at least the silo's minimum reminder period ({minimumReminderPeriod}).");
        }

        if (o.DispatchReservation < 1 || o.DispatchReservation > BatchConstants.MaxDispatchReservation)
        {
            errors.Add($"{BatchOptions.SectionName}:DispatchReservation must be between 1 and {BatchConstants.MaxDispatchReservation}.");
        }

        if (o.MaxResultPage < 1)
        {
            errors.Add($"{BatchOptions.SectionName}:MaxResultPage must be at least 1.");
        }

        if (o.ChunkSize < 1 || o.ChunkSize > BatchConstants.MaxChunkSize)
        {
            errors.Add($"{BatchOptions.SectionName}:ChunkSize must be between 1 and {BatchConstants.MaxChunkSize}.");
        }

        if (o.CachedChunks < 1 || o.CachedChunks > BatchConstants.MaxCachedChunks)
        {
            errors.Add($"{BatchOptions.SectionName}:CachedChunks must be between 1 and {BatchConstants.MaxCachedChunks}.");
        }

        if (o.MaxItems < 1 || o.MaxItems > BatchConstants.MaxMaxItems)
        {
            errors.Add($"{BatchOptions.SectionName}:MaxItems must be between 1 and {BatchConstants.MaxMaxItems}.");
        }

        if (o.Retention <= TimeSpan.Zero || o.Retention > BatchConstants.MaxRetention)
        {
            errors.Add($"{BatchOptions.SectionName}:Retention must be positive and at most {BatchConstants.MaxRetention.TotalDays} days.");
        }

        if (o.IdleTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{BatchOptions.SectionName}:IdleTimeout must be positive.");
        }

        if (o.ReceiveTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{BatchOptions.SectionName}:ReceiveTimeout must be positive.");
        }

        if (o.IndexCapacity < 1 || o.IndexCapacity > BatchConstants.MaxIndexCapacity)
        {
            errors.Add($"{BatchOptions.SectionName}:IndexCapacity must be between 1 and {BatchConstants.MaxIndexCapacity}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
