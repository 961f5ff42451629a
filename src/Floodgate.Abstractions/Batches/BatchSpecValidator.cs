using System.Text.Json;
using Floodgate.Validation;

namespace Floodgate.Batches;

/// <summary>The one set of rules a batch spec must meet, used by the SDK, the HTTP API, the CLI and the batch grain.</summary>
public static class BatchSpecValidator
{
    /// <summary>Most additional limiters one batch may name.</summary>
    public const int MaxAdditionalLimiters = 8;

    /// <summary>Returns every problem in <paramref name="spec"/>; empty when it is valid.</summary>
    public static IReadOnlyList<string> Validate(BatchSpec? spec)
    {
        if (spec is null)
        {
            return ["A batch spec is required."];
        }

        var errors = new List<string>();
        if (spec.Items is null || spec.Items.Count == 0)
        {
            errors.Add("A batch needs at least one item.");
        }
        else if (spec.Items.Count > FloodgateDefaults.MaxBatchItems)
        {
            errors.Add($"A batch may hold at most {FloodgateDefaults.MaxBatchItems} items (got {spec.Items.Count}).");
        }
        else
        {
            for (var i = 0; i < spec.Items.Count; i++)
            {
                if (!IsJson(spec.Items[i]))
                {
                    errors.Add($"Item {i} is not valid JSON.");
                    break;
                }
            }
        }

        AddIfNotNull(errors, Names.Check("Processor name", spec.Processor));
        AddIfNotNull(errors, Names.Check("Limiter name", spec.Limiter));
        if (spec.Breaker is not null)
        {
            AddIfNotNull(errors, Names.Check("Breaker name", spec.Breaker));
        }

        if (spec.AdditionalLimiters is null)
        {
            errors.Add("Additional limiters must not be null.");
        }
        else
        {
            if (spec.AdditionalLimiters.Count > MaxAdditionalLimiters)
            {
                errors.Add($"A batch may name at most {MaxAdditionalLimiters} additional limiters (got {spec.AdditionalLimiters.Count}).");
            }

            foreach (var limiter in spec.AdditionalLimiters)
            {
                AddIfNotNull(errors, Names.Check("Additional limiter name", limiter));
            }
        }

        if (!Enum.IsDefined(spec.Priority))
        {
            errors.Add($"Priority must be Low, Normal or High (got {(int)spec.Priority}).");
        }

        if (spec.PermitTimeout is { } permitTimeout && (permitTimeout <= TimeSpan.Zero || permitTimeout > TimeSpan.FromHours(1)))
        {
            errors.Add($"Permit timeout must be positive and at most one hour (got {permitTimeout}).");
        }

        if (spec.LocalLimit is <= 0 or > FloodgateDefaults.MaxLocalLimit)
        {
            errors.Add($"Local limit must be between 1 and {FloodgateDefaults.MaxLocalLimit} (got {spec.LocalLimit}).");
        }

        if (spec.GlobalLimit is { } global && global is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
        {
            errors.Add($"Global limit must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {global}).");
        }

        if (spec.IdempotencyKey is { } key && (key.Length == 0 || key.Length > FloodgateDefaults.MaxNameLength))
        {
            errors.Add($"Idempotency key must be 1 to {FloodgateDefaults.MaxNameLength} characters.");
        }

        if (spec.ProcessorOptions is null)
        {
            errors.Add("Processor options must not be null.");
        }

        return errors;
    }

    /// <summary>
    /// Every problem in a submission: the spec and, when given, the batch id it is to have (what the SDK, the HTTP client
    /// and the CLI check before sending anything).
    /// </summary>
    public static IReadOnlyList<string> Validate(BatchSpec? spec, string? batchId)
    {
        var errors = Validate(spec);
        return batchId is not null && Names.Check("Batch id", batchId) is { } problem ? [.. errors, problem] : errors;
    }

    /// <summary>Throws <see cref="FloodgateValidationException"/> when <paramref name="spec"/> is invalid.</summary>
    public static void ThrowIfInvalid(BatchSpec? spec)
    {
        var errors = Validate(spec);
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

    private static void AddIfNotNull(List<string> errors, string? error)
    {
        if (error is not null)
        {
            errors.Add(error);
        }
    }
}
