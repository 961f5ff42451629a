using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Batches;

/// <summary>How batches run (section <c>Floodgate:Batches</c>).</summary>
public sealed class BatchOptions
{
    public const string SectionName = "Floodgate:Batches";

    /// <summary>Outcomes are written to storage at most this often while a batch runs (and always at the end).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>After a rate-limit halving, the effective local limit grows by one per this many successes (AIMD).</summary>
    public int IncreaseAfterSuccesses { get; set; } = 10;

    /// <summary>Longest a watcher or result reader waits in one call for something new.</summary>
    public TimeSpan MaxPollWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Items in flight longer than this are started again (idempotent while their grain lives): an item whose silo died
    /// is run again instead of leaving its batch waiting forever. Calls are at-least-once; outcomes stay exactly-once.
    /// </summary>
    public TimeSpan InFlightCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most outcomes returned by one results call.</summary>
    public int MaxResultPage { get; set; } = 1000;
}

internal sealed class BatchOptionsValidator : IValidateOptions<BatchOptions>
{
    public ValidateOptionsResult Validate(string? name, BatchOptions o)
    {
        var errors = new List<string>();
        if (o.CheckpointInterval <= TimeSpan.Zero)
        {
            errors.Add($"{BatchOptions.SectionName}:CheckpointInterval must be positive.");
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

        if (o.MaxResultPage < 1)
        {
            errors.Add($"{BatchOptions.SectionName}:MaxResultPage must be at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
