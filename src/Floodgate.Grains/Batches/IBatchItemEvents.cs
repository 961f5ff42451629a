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
}
