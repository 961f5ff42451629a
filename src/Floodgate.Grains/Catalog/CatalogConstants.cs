namespace Floodgate.Grains.Catalog;

/// <summary>Defaults of the catalogs.</summary>
internal static class CatalogConstants
{
    /// <summary>The most names one catalog keeps; beyond it the name registered longest ago is dropped.</summary>
    public const int Capacity = 1000;
}
