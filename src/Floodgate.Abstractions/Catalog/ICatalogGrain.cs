using Orleans.Concurrency;

namespace Floodgate.Catalog;

/// <summary>The keys of the catalogs: one <see cref="ICatalogGrain"/> per kind of named thing.</summary>
public static class CatalogKeys
{
    /// <summary>Global limiters, registered by each limiter activation.</summary>
    public const string Limiters = "limiters";

    /// <summary>Shared circuit breakers, registered by each breaker activation.</summary>
    public const string Breakers = "breakers";
}

/// <summary>
/// Which limiters (or breakers) exist, so that a console can list them without knowing their names. Bounded: when full,
/// the name registered longest ago makes room. Names only, never a status or a secret.
/// </summary>
[Alias("Floodgate.ICatalogGrain")]
public interface ICatalogGrain : IGrainWithStringKey
{
    /// <summary>Records that <paramref name="name"/> exists (idempotent; one way, so an activation never waits on it).</summary>
    [OneWay]
    [Alias("Register")]
    Task RegisterAsync(string name);

    /// <summary>The names recorded, in ordinal order.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}
