using Floodgate.Client.References;
using Floodgate.Grains.Batches;
using Floodgate.Grains.References;

namespace Floodgate.Grains.Items;

/// <summary>
/// Sends this silo's item outcomes to their batches in groups, one call in flight per batch (<see cref="GroupedCalls{TKey, T}"/>).
/// Each sender learns whether its own outcome was delivered, and retries as before when not; a batch ignores an outcome
/// it already has, so a repeated one changes nothing.
/// </summary>
internal sealed class OutcomeReports(GrainReferences references)
{
    /// <summary>Most outcomes in one call.</summary>
    public const int MaxGroup = 1_000;

    private readonly GroupedCalls<string, ItemReport> _calls =
        new((batchId, reports) => references.Shared<IBatchItemEvents>(batchId).ReportOutcomesAsync(reports), MaxGroup);

    /// <summary>Completes once the batch has taken <paramref name="report"/>; faults with the call's error when it did not.</summary>
    public Task SendAsync(string batchId, ItemReport report) => _calls.SendAsync(batchId, report);
}
