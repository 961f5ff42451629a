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
        if (CheckKnown(spec.Processor) is { } unknown)
        {
            return [unknown];
        }

        var processor = _byName[spec.Processor];
        var errors = new List<string>(processor.ValidateOptions(spec.ProcessorOptions));
        if (ResultCaching.CheckOption(spec.ProcessorOptions) is { } cacheProblem)
        {
            errors.Add(cacheProblem);
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        var problems = 0;
        for (var position = 0; position < spec.Items.Count; position++)
        {
            using var item = JsonDocument.Parse(spec.Items[position]);
            if (processor.ValidateItem(spec.ProcessorOptions, item.RootElement) is not { } problem)
            {
                continue;
            }

            if (++problems <= MaxItemProblems)
            {
                errors.Add($"Item {position}: {problem}.");
            }
        }

        if (problems > MaxItemProblems)
        {
            errors.Add($"… and {problems - MaxItemProblems} more items with problems.");
        }

        return errors;
    }
}
