namespace Floodgate.Grains.Draining;

/// <summary>How a stopping silo drains (set from <c>Floodgate:Silo:DrainTimeout</c> by the silo host).</summary>
public sealed class DrainOptions
{
    /// <summary>
    /// Longest a stopping silo waits for the item runs in progress on it to finish before it deactivates them (they are
    /// then interrupted and run again elsewhere). Zero: do not wait.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
