namespace Floodgate.Grains.Processors;

/// <summary>The processors registered in the silo's DI, by name.</summary>
public sealed class ProcessorRegistry
{
    private readonly Dictionary<string, IItemProcessor> _byName;

    public ProcessorRegistry(IEnumerable<IItemProcessor> processors)
    {
        _byName = new Dictionary<string, IItemProcessor>(StringComparer.Ordinal);
        foreach (var processor in processors)
        {
            if (!_byName.TryAdd(processor.Name, processor))
            {
                throw new InvalidOperationException($"Two item processors are registered as '{processor.Name}'.");
            }
        }
    }

    /// <summary>Registered processor names, sorted.</summary>
    public IReadOnlyList<string> Names => _byName.Keys.Order(StringComparer.Ordinal).ToList();

    public bool TryGet(string name, out IItemProcessor processor) => _byName.TryGetValue(name, out processor!);

    /// <summary>A user-facing problem when <paramref name="name"/> is not registered, else null.</summary>
    public string? CheckKnown(string name) =>
        _byName.ContainsKey(name) ? null : $"Unknown processor '{name}'. Registered: {string.Join(", ", Names)}.";
}
