using System.Text.Json;
using Floodgate.Validation;

namespace Floodgate.Batches;

/// <summary>
/// The one set of rules a batch spec must meet, used by the SDK, the HTTP API, the CLI and the batch grain. A submission
/// (the overloads with a batch id, which the SDK, the HTTP client and the CLI call) must also keep off the names reserved
/// for the silo's warm-up (<see cref="Names.ReservedPrefix"/>); the batch grain does not ask that, so the warm-up can.
/// </summary>
public static class BatchSpecValidator
{
    /// <summary>Most additional limiters one batch may name.</summary>
    public const int MaxAdditionalLimiters = 8;

    /// <summary>The problem of a submission that brought no item.</summary>
    public const string NoItems = "A batch needs at least one item.";

    /// <summary>
    /// Returns every problem in <paramref name="spec"/>, its items and its definition; empty when it is valid. How many
    /// items a batch may hold is the silo's to decide (<c>Batches:MaxItems</c>).
    /// </summary>
    public static IReadOnlyList<string> Validate(BatchSpec? spec)
    {
        if (spec is null)
        {
            return ["A batch spec is required."];
        }

        var errors = new List<string>();
        if (spec.Items is null || spec.Items.Count == 0)
        {
            errors.Add(NoItems);
        }
        else
        {
            for (var i = 0; i < spec.Items.Count; i++)
            {
                if (CheckItem(spec.Items[i], i) is { } problem)
                {
                    errors.Add(problem);
                    break;
                }
            }
        }

        errors.AddRange(Validate((BatchDefinition)spec));
        return errors;
    }

    /// <summary>The problem with the item at <paramref name="position"/>, or null when it is one JSON value.</summary>
    public static string? CheckItem(string? item, long position) =>
        IsJson(item) ? null : $"Item {position} is not valid JSON.";

    /// <summary>Returns every problem in <paramref name="definition"/> (everything but the items); empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(BatchDefinition? definition)
    {
        if (definition is null)
        {
            return ["A batch definition is required."];
        }

        var errors = new List<string>();
        AddIfNotNull(errors, Names.Check("Processor name", definition.Processor));
        AddIfNotNull(errors, Names.Check("Limiter name", definition.Limiter));
        if (definition.Breaker is not null)
        {
            AddIfNotNull(errors, Names.Check("Breaker name", definition.Breaker));
        }

        if (definition.AdditionalLimiters is null)
        {
            errors.Add("Additional limiters must not be null.");
        }
        else
        {
            if (definition.AdditionalLimiters.Count > MaxAdditionalLimiters)
            {
                errors.Add($"A batch may name at most {MaxAdditionalLimiters} additional limiters (got {definition.AdditionalLimiters.Count}).");
            }

            foreach (var limiter in definition.AdditionalLimiters)
            {
                AddIfNotNull(errors, Names.Check("Additional limiter name", limiter));
            }
        }

        if (!Enum.IsDefined(definition.Priority))
        {
            errors.Add($"Priority must be Low, Normal or High (got {(int)definition.Priority}).");
        }

        if (definition.PermitTimeout is { } permitTimeout && (permitTimeout <= TimeSpan.Zero || permitTimeout > TimeSpan.FromHours(1)))
        {
            errors.Add($"Permit timeout must be positive and at most one hour (got {permitTimeout}).");
        }

        if (definition.LocalLimit is <= 0 or > FloodgateDefaults.MaxLocalLimit)
        {
            errors.Add($"Local limit must be between 1 and {FloodgateDefaults.MaxLocalLimit} (got {definition.LocalLimit}).");
        }

        if (definition.GlobalLimit is { } global && global is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
        {
            errors.Add($"Global limit must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {global}).");
        }

        if (definition.IdempotencyKey is { } key && (key.Length == 0 || key.Length > FloodgateDefaults.MaxNameLength))
        {
            errors.Add($"Idempotency key must be 1 to {FloodgateDefaults.MaxNameLength} characters.");
        }

        if (definition.ProcessorOptions is null)
        {
            errors.Add("Processor options must not be null.");
        }

        return errors;
    }

    /// <summary>
    /// Every problem in a submission: the spec and, when given, the batch id it is to have (what the SDK, the HTTP client
    /// and the CLI check before sending anything).
    /// </summary>
    public static IReadOnlyList<string> Validate(BatchSpec? spec, string? batchId) => WithReservedNames(Validate(spec), spec, batchId);

    /// <summary>
    /// Every problem in a streamed submission before its items are read (each item is checked as it is read): the
    /// definition, a missing item source and, when given, the batch id.
    /// </summary>
    public static IReadOnlyList<string> Validate(BatchDefinition? definition, IAsyncEnumerable<string>? items, string? batchId)
    {
        var errors = Validate(definition, batchId);
        return items is null ? [.. errors, "The items must not be null."] : errors;
    }

    /// <summary>Every problem in a definition and, when given, the batch id it is to have (its items come later).</summary>
    public static IReadOnlyList<string> Validate(BatchDefinition? definition, string? batchId) =>
        WithReservedNames(Validate(definition), definition, batchId);

    /// <summary>Throws <see cref="FloodgateValidationException"/> when <paramref name="spec"/> is invalid.</summary>
    public static void ThrowIfInvalid(BatchSpec? spec)
    {
        var errors = Validate(spec);
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }
    }

    /// <summary>Throws <see cref="FloodgateValidationException"/> when <paramref name="definition"/> is invalid.</summary>
    public static void ThrowIfInvalid(BatchDefinition? definition)
    {
        var errors = Validate(definition);
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }
    }

    private static bool IsJson(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// <paramref name="errors"/> plus the problems of a submission's names: the batch id's (when given), and any limiter,
    /// breaker or idempotency key under the warm-up's reserved prefix.
    /// </summary>
    private static IReadOnlyList<string> WithReservedNames(IReadOnlyList<string> errors, BatchDefinition? definition, string? batchId)
    {
        var all = new List<string>(errors);
        if (definition is not null)
        {
            AddIfNotNull(all, Names.CheckNotReserved("Limiter name", definition.Limiter));
            AddIfNotNull(all, Names.CheckNotReserved("Breaker name", definition.Breaker));
            foreach (var limiter in definition.AdditionalLimiters ?? [])
            {
                AddIfNotNull(all, Names.CheckNotReserved("Additional limiter name", limiter));
            }

            AddIfNotNull(all, Names.CheckNotReserved("Idempotency key", definition.IdempotencyKey));
        }

        if (batchId is not null)
        {
            AddIfNotNull(all, Names.CheckUnreserved("Batch id", batchId));
        }

        return all;
    }

    private static void AddIfNotNull(List<string> errors, string? error)
    {
        if (error is not null)
        {
            errors.Add(error);
        }
    }
}
