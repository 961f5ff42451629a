namespace Floodgate.Grains.Catalog;

/// <summary>A name and when it was last registered.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.CatalogEntry")]
internal sealed record CatalogEntry([property: Id(0)] string Name, [property: Id(1)] DateTimeOffset SeenAt);

/// <summary>The stored state of one catalog.</summary>
[GenerateSerializer, Alias("Floodgate.CatalogRecord")]
internal sealed class CatalogRecord
{
    [Id(0)] public List<CatalogEntry> Entries { get; set; } = [];
}
