using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>What an item grain tells its batch (grain-to-grain protocol, key: batch id).</summary>
[Alias("Floodgate.IBatchItemEvents")]
internal interface IBatchItemEvents : IGrainWithStringKey
{
    /// <summary>The item's run was stopped without an outcome (its activation went away, e.g. its silo stops): run it again.</summary>
    [Alias("ReportInterrupted")]
    Task ReportInterruptedAsync(int position);

    /// <summary>
    /// The outcomes of items, each item's one outcome (sent together per batch by a silo's <see cref="Items.OutcomeReports"/>).
    /// Later reports for a position that has its outcome are ignored.
    /// </summary>
    [Alias("ReportOutcomes")]
    Task ReportOutcomesAsync(IReadOnlyList<ItemReport> reports);
}
