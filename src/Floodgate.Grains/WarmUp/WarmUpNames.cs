using Floodgate.Validation;

namespace Floodgate.Grains.WarmUp;

/// <summary>
/// The names the start-up warm-up runs under: its batch id, and the limiter and breaker of that batch. They are valid
/// names with a reserved prefix, so that the list of batches, the catalogs of limiters and breakers, metrics and spans
/// can leave the warm-up out on whichever silo they run (the catalog may live on another silo than the warm-up). The
/// prefix is <see cref="Names.ReservedPrefix"/>: every public entry point refuses it, only the silo itself uses it.
/// </summary>
public static class WarmUpNames
{
    /// <summary>Every warm-up name starts with this; item keys (<c>{batchId}/{position}</c>) do too.</summary>
    public const string Prefix = Names.ReservedPrefix;

    /// <summary>True for a name (batch id, item key, limiter or breaker) of a warm-up run.</summary>
    public static bool IsWarmUp(string? name) => Names.IsReserved(name);

    /// <summary>A new, unique name for one run: its batch id, limiter and breaker (the breaker defaults to the limiter's name).</summary>
    public static string NewRun() => Prefix + Guid.NewGuid().ToString("N")[..16];
}
