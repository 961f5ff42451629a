using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>What an item grain tells its batch (grain-to-grain protocol, key: batch id).</summary>
[Alias("Floodgate.IBatchItemEvents")]
internal interface IBatchItemEvents : IGrainWithStringKey
{
    /// <summary>Called by item grains with their one outcome. Later reports for the same position are ignored.</summary>
    [Alias("ReportOutcome")]
    Task ReportOutcomeAsync(ItemReport report);

    /// <summary>The item's run was stopped without an outcome (its activation went away, e.g. its silo stops): run it again.</summary>
    [Alias("ReportInterrupted")]
    Task ReportInterruptedAsync(int position);

    /// <summary>
    /// Outcomes of several items (sent together by a silo's <see cref="Items.OutcomeReports"/>); each as one
    /// outcome report: later reports for a position that has its outcome are ignored.
    /// </summary>
    [Alias("ReportOutcomes")]
    Task ReportOutcomesAsync(IReadOnlyList<ItemReport> reports);
}
