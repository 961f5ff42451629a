namespace Floodgate.Grains.Catalog;

/// <summary>
/// A bounded set of names with the time each was last registered. When full, registering a new name evicts the one
/// registered longest ago: a catalog of limiters that come and go never grows without bound.
/// </summary>
internal sealed class NameCatalog
{
    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    public NameCatalog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _seen.Count;

    /// <summary>The names, in ordinal order.</summary>
    public IReadOnlyList<string> Names => [.. _seen.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Every name with its last registration, for storage.</summary>
    public IReadOnlyList<CatalogEntry> Entries => [.. _seen.Select(e => new CatalogEntry(e.Key, e.Value))];

    /// <summary>Registers <paramref name="name"/> at <paramref name="now"/>; true when the set of names changed (worth a write).</summary>
    public bool Register(string name, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_seen.ContainsKey(name))
        {
            _seen[name] = now;
            return false;
        }

        if (_seen.Count >= Capacity)
        {
            var oldest = _seen.MinBy(e => e.Value).Key;
            _seen.Remove(oldest);
        }

        _seen[name] = now;
        return true;
    }

    /// <summary>Loads stored entries (the newest ones when there are more than <see cref="Capacity"/>).</summary>
    public void Restore(IEnumerable<CatalogEntry> entries)
    {
        _seen.Clear();
        foreach (var entry in entries.OrderByDescending(e => e.SeenAt).Take(Capacity))
        {
            _seen.TryAdd(entry.Name, entry.SeenAt);
        }
    }
}
