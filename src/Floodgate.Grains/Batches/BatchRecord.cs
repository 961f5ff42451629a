using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>
/// A batch's own storage record: its definition, counters and cursors — small and of fixed size whatever the batch's
/// size. Items and outcomes are in chunk records of their own (<see cref="Chunks.ChunkStorage"/>). One write at a time;
/// a successor activation rebuilds its <see cref="BatchLedger"/> from this record and the chunks after its durable prefix.
/// </summary>
[GenerateSerializer, Alias("Floodgate.BatchRecord.v2")]
public sealed class BatchRecord
{
    [Id(0)] public BatchDefinition? Definition { get; set; }

    [Id(1)] public DateTimeOffset SubmittedAt { get; set; }

    /// <summary>Set by the write that found every outcome durable.</summary>
    [Id(2)] public DateTimeOffset? FinishedAt { get; set; }

    [Id(3)] public List<string> Warnings { get; set; } = [];

    /// <summary>Items per chunk, fixed when the batch was created.</summary>
    [Id(4)] public int ChunkSize { get; set; }

    /// <summary>The id under which the batch's items are sent (a repeated chunk under it is recognised).</summary>
    [Id(5)] public string? UploadId { get; set; }

    /// <summary>Items received as of this write; more chunks may be stored already (a successor reads on until one is missing).</summary>
    [Id(6)] public int Received { get; set; }

    /// <summary>Every item has arrived.</summary>
    [Id(7)] public bool Sealed { get; set; }

    /// <summary>Every position below it had a durable outcome as of this write.</summary>
    [Id(8)] public int DurablePrefix { get; set; }

    [Id(9)] public int PrefixSucceeded { get; set; }

    [Id(10)] public int PrefixFailed { get; set; }

    [Id(11)] public int PrefixCancelled { get; set; }

    /// <summary>
    /// The dispatch reservation: the activation that wrote this record may have dispatched any position below it, so a
    /// successor asks every such position without an outcome whether it still runs.
    /// </summary>
    [Id(12)] public int DispatchReservation { get; set; }

    /// <summary>Set by a cancel: positions from here on were never dispatched and are Cancelled without a stored outcome.</summary>
    [Id(13)] public int? CancelledFrom { get; set; }

    [Id(14)] public int RetryRounds { get; set; }

    /// <summary>A retry was asked for: its failed outcomes are (being) erased, and a successor finishes that and recounts.</summary>
    [Id(15)] public bool RetryPending { get; set; }

    /// <summary>The batch expired or was discarded: its chunks are (being) deleted, then this record.</summary>
    [Id(16)] public bool Deleting { get; set; }

    /// <summary>When the last chunk of items arrived (a submission silent for too long is abandoned).</summary>
    [Id(17)] public DateTimeOffset LastReceivedAt { get; set; }

    /// <summary>Each item lane's epoch (<see cref="LaneEpochs"/>); null while every lane is at epoch 0.</summary>
    [Id(18)] public int[]? LaneEpochs { get; set; }

    /// <summary>Where a rebuilt ledger starts.</summary>
    internal LedgerCheckpoint Checkpoint => new(Received, Sealed, DurablePrefix, PrefixSucceeded, PrefixFailed, PrefixCancelled, DispatchReservation, CancelledFrom);

    /// <summary>Takes the counters and cursors of <paramref name="checkpoint"/>.</summary>
    internal void Apply(LedgerCheckpoint checkpoint)
    {
        Received = checkpoint.Received;
        Sealed = checkpoint.Sealed;
        DurablePrefix = checkpoint.DurablePrefix;
        PrefixSucceeded = checkpoint.PrefixSucceeded;
        PrefixFailed = checkpoint.PrefixFailed;
        PrefixCancelled = checkpoint.PrefixCancelled;
        DispatchReservation = checkpoint.Reservation;
        CancelledFrom = checkpoint.CancelledFrom;
    }

    /// <summary>A copy (the write in progress must not see later changes).</summary>
    internal BatchRecord Copy() => (BatchRecord)MemberwiseClone();
}
