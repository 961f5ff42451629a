using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Grains.Caching;

namespace Floodgate.Grains.Processors;

/// <summary>The processors registered in the silo's DI, by name, and the processor side of batch validation.</summary>
public sealed class ProcessorRegistry
{
    /// <summary>Most item problems listed in one validation error (the rest are counted).</summary>
    public const int MaxItemProblems = 10;

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

    /// <summary>
    /// Every processor-side problem of a spec that passed <see cref="BatchSpecValidator"/>: an unknown processor, bad
    /// options (its own and the cache option), then items that cannot fill its templates — all before anything runs.
    /// </summary>
    public IReadOnlyList<string> Validate(BatchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = Validate((BatchDefinition)spec);
        return errors.Count > 0 ? errors : ValidateItems(spec, spec.Items, firstPosition: 0);
    }

    /// <summary>
    /// The processor-side problems of a definition alone (a streamed submission's open): an unknown processor, bad
    /// options (its own and the cache option). Its items are checked as they arrive, by <see cref="ValidateItems"/>.
    /// </summary>
    public IReadOnlyList<string> Validate(BatchDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (CheckKnown(definition.Processor) is { } unknown)
        {
            return [unknown];
        }

        var errors = new List<string>(_byName[definition.Processor].ValidateOptions(definition.ProcessorOptions));
        if (ResultCaching.CheckOption(definition.ProcessorOptions) is { } cacheProblem)
        {
            errors.Add(cacheProblem);
        }

        return errors;
    }

    /// <summary>
    /// Items (at positions from <paramref name="firstPosition"/>) that cannot fill the processor's templates, for a
    /// definition that passed <see cref="Validate(BatchDefinition)"/>; the items are valid JSON already.
    /// </summary>
    public IReadOnlyList<string> ValidateItems(BatchDefinition definition, IReadOnlyList<string> items, int firstPosition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(items);
        var processor = _byName[definition.Processor];
        var errors = new List<string>();
        var problems = 0;
        for (var i = 0; i < items.Count; i++)
        {
            using var item = JsonDocument.Parse(items[i]);
            if (processor.ValidateItem(definition.ProcessorOptions, item.RootElement) is not { } problem)
            {
                continue;
            }

            if (++problems <= MaxItemProblems)
            {
                errors.Add($"Item {firstPosition + i}: {problem}.");
            }
        }

        if (problems > MaxItemProblems)
        {
            errors.Add($"… and {problems - MaxItemProblems} more items with problems.");
        }

        return errors;
    }
}
