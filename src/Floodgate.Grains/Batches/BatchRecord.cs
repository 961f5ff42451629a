using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>
/// What a batch keeps in storage: its spec, the outcomes that are durable, and how far its activation may dispatch.
/// Written whole, one write at a time; a successor activation rebuilds its <see cref="BatchLedger"/> from it.
/// </summary>
[GenerateSerializer, Alias("Floodgate.BatchRecord")]
public sealed class BatchRecord
{
    [Id(0)] public BatchSpec? Spec { get; set; }

    [Id(1)] public DateTimeOffset SubmittedAt { get; set; }

    [Id(2)] public DateTimeOffset? FinishedAt { get; set; }

    [Id(3)] public bool CancelRequested { get; set; }

    [Id(4)] public List<ItemOutcome?> Outcomes { get; set; } = [];

    [Id(5)] public List<string> Warnings { get; set; } = [];

    /// <summary>Positions dispatched and without an outcome when this record was written.</summary>
    [Id(6)] public List<int> InFlight { get; set; } = [];

    /// <summary>
    /// The dispatch reservation: the activation that wrote this record may have dispatched any position below it, so a
    /// successor asks every such position without an outcome whether it still runs.
    /// </summary>
    [Id(7)] public int DispatchReservation { get; set; }
}
