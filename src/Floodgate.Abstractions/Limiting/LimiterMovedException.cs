namespace Floodgate.Limiting;

/// <summary>
/// The limiter activation that received a call no longer owns the limiter: another activation claimed it (a partition
/// or a lost directory entry) or it is handing over to a successor (silo shutdown, migration). Nothing was changed;
/// retry the call, which reaches the current activation.
/// </summary>
[GenerateSerializer, Alias("Floodgate.LimiterMovedException")]
public sealed class LimiterMovedException(string limiter)
    : Exception($"Limiter '{limiter}' moved to another activation; try again.")
{
    /// <summary>The limiter's name.</summary>
    [Id(0)]
    public string Limiter { get; } = limiter;
}
