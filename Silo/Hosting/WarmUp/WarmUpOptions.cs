namespace Floodgate.Silo.Hosting.WarmUp;

/// <summary>
/// The start-up warm-up (section <c>Floodgate:Silo:WarmUp</c>): before the silo reports ready, a private batch of echo items
/// runs the real item path until the JIT has compiled it, so that the first real batch runs as fast as later ones.
/// </summary>
public sealed class WarmUpOptions
{
    /// <summary>Section path, under <see cref="SiloOptions.SectionName"/>.</summary>
    public const string SectionName = SiloOptions.SectionName + ":WarmUp";

    /// <summary>Most items per round.</summary>
    public const int MaxItems = 100_000;

    /// <summary>Most rounds.</summary>
    public const int MaxMaxRounds = 100;

    /// <summary>Longest <see cref="Timeout"/> accepted.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Run the warm-up at start. <value>Default: true.</value></summary>
    public bool Enabled { get; set; } = WarmUpDefaults.Enabled;

    /// <summary>
    /// Echo items per round, rounded up to whole chunks (<c>Batches:ChunkSize</c>), 1 to 100,000.
    /// <value>Default: 1,000.</value>
    /// </summary>
    public int Items { get; set; } = WarmUpDefaults.Items;

    /// <summary>
    /// Most rounds, 1 to 100; the warm-up stops earlier once a round leaves the JIT (almost) nothing new to compile.
    /// <value>Default: 20.</value>
    /// </summary>
    public int MaxRounds { get; set; } = WarmUpDefaults.MaxRounds;

    /// <summary>
    /// Longest the warm-up may take (1 s to 10 min); past it the silo stops warming up, erases the warm-up and reports
    /// ready anyway. <value>Default: 60 s.</value>
    /// </summary>
    public TimeSpan Timeout { get; set; } = WarmUpDefaults.Timeout;

    /// <summary>One message per invalid setting, each naming its key.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Items is < 1 or > MaxItems)
        {
            errors.Add($"{SectionName}:Items must be between 1 and {MaxItems}, got {Items}.");
        }

        if (MaxRounds is < 1 or > MaxMaxRounds)
        {
            errors.Add($"{SectionName}:MaxRounds must be between 1 and {MaxMaxRounds}, got {MaxRounds}.");
        }

        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > MaxTimeout)
        {
            errors.Add($"{SectionName}:Timeout must be between 1 second and {MaxTimeout.TotalMinutes} minutes, got {Timeout}.");
        }

        return errors;
    }
}

/// <summary>Defaults of <see cref="WarmUpOptions"/>, in one place.</summary>
internal static class WarmUpDefaults
{
    public const bool Enabled = true;
    public const int Items = 1000;
    public const int MaxRounds = 20;

    /// <summary>Items in flight at once: the warm-up batch's local limit and its own limiter's limit.</summary>
    public const int Concurrency = 64;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
}
