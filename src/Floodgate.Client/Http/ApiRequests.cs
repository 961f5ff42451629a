using System.Globalization;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Client.Http;

/// <summary>
/// Body of <c>POST /api/batches</c>, read by the silo and written by <see cref="FloodgateHttpClient"/>. Everything but
/// <see cref="Items"/> is optional; what is left out takes the defaults of <see cref="BatchSpec"/> (and so of
/// <see cref="FloodgateDefaults"/>), exactly as in the SDK and the CLI.
/// </summary>
public sealed record SubmitBatchRequest
{
    /// <summary>The items, any JSON values.</summary>
    public IReadOnlyList<JsonElement>? Items { get; init; }

    /// <summary>The processor's name (default <c>echo</c>).</summary>
    public string? Processor { get; init; }

    /// <summary>Processor options; strings, numbers and booleans (numbers and booleans are passed on as their JSON text).</summary>
    public IReadOnlyDictionary<string, JsonElement>? ProcessorOptions { get; init; }

    /// <summary>The global limiter (default <c>default</c>).</summary>
    public string? Limiter { get; init; }

    /// <summary>At most this many items in flight.</summary>
    public int? LocalLimit { get; init; }

    /// <summary>An explicit global limit for the limiter (the first explicit configuration wins).</summary>
    public int? GlobalLimit { get; init; }

    /// <summary>The shared circuit breaker (default: the limiter's name).</summary>
    public string? Breaker { get; init; }

    /// <summary>Submitting twice with the same key returns the same batch.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>More limiters every upstream call must also pass.</summary>
    public IReadOnlyList<string>? AdditionalLimiters { get; init; }

    /// <summary>Priority class of the batch's permit requests.</summary>
    public AcquirePriority? Priority { get; init; }

    /// <summary>How long one attempt waits for its permits, in milliseconds.</summary>
    public int? PermitTimeoutMs { get; init; }

    /// <summary>Names the batch; otherwise an id is generated (or derived from <see cref="IdempotencyKey"/>).</summary>
    public string? BatchId { get; init; }

    /// <summary>The body for <paramref name="spec"/> (assumed valid: check it with <see cref="BatchSpecValidator"/> first).</summary>
    public static SubmitBatchRequest From(BatchSpec spec, string? batchId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return From((BatchDefinition)spec, batchId) with
        {
            Items = spec.Items.Select(item => JsonSerializer.Deserialize<JsonElement>(item)).ToList(),
        };
    }

    /// <summary>
    /// The first line of a streamed (NDJSON) submission: <paramref name="definition"/> without items (assumed valid),
    /// whose items follow line by line.
    /// </summary>
    public static SubmitBatchRequest From(BatchDefinition definition, string? batchId)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new SubmitBatchRequest
        {
            Processor = definition.Processor,
            ProcessorOptions = definition.ProcessorOptions.ToDictionary(o => o.Key, o => JsonSerializer.SerializeToElement(o.Value)),
            Limiter = definition.Limiter,
            LocalLimit = definition.LocalLimit,
            GlobalLimit = definition.GlobalLimit,
            Breaker = definition.Breaker,
            IdempotencyKey = definition.IdempotencyKey,
            AdditionalLimiters = definition.AdditionalLimiters,
            Priority = definition.Priority,
            PermitTimeoutMs = definition.PermitTimeout is { } timeout ? (int)Math.Ceiling(timeout.TotalMilliseconds) : null,
            BatchId = batchId,
        };
    }

    /// <summary>
    /// The spec as the SDK takes it. Problems only the wire can have (an option that is an object) are reported
    /// together with everything <see cref="BatchSpecValidator"/> finds, so the caller sees every problem at once.
    /// </summary>
    public BatchSpec ToSpec()
    {
        var (definition, wireErrors) = Convert();
        var spec = new BatchSpec(definition) { Items = Items?.Select(item => item.GetRawText()).ToList() ?? [] };
        if (wireErrors.Count > 0)
        {
            throw new FloodgateValidationException([.. wireErrors, .. BatchSpecValidator.Validate(spec, BatchId)]);
        }

        return spec;
    }

    /// <summary>
    /// Everything but the items, for a streamed (NDJSON) submission whose items follow this object line by line; there
    /// the object must not have <c>items</c>.
    /// </summary>
    public BatchDefinition ToDefinition()
    {
        var (definition, wireErrors) = Convert();
        if (Items is not null)
        {
            wireErrors.Insert(0, "In an NDJSON body the items follow the first line, one JSON value per line; the first line must not have 'items'.");
        }

        if (wireErrors.Count > 0)
        {
            throw new FloodgateValidationException([.. wireErrors, .. BatchSpecValidator.Validate(definition, BatchId)]);
        }

        return definition;
    }

    private (BatchDefinition Definition, List<string> WireErrors) Convert()
    {
        var wireErrors = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in ProcessorOptions ?? new Dictionary<string, JsonElement>())
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    options[key] = value.GetString()!;
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    options[key] = value.GetRawText();
                    break;
                default:
                    wireErrors.Add($"Processor option '{key}' must be a string, number or boolean (got {value.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture)}).");
                    break;
            }
        }

        var defaults = new BatchDefinition();
        var definition = new BatchDefinition
        {
            Processor = Processor ?? defaults.Processor,
            ProcessorOptions = options,
            Limiter = Limiter ?? defaults.Limiter,
            LocalLimit = LocalLimit ?? defaults.LocalLimit,
            GlobalLimit = GlobalLimit,
            Breaker = Breaker,
            IdempotencyKey = IdempotencyKey,
            AdditionalLimiters = AdditionalLimiters ?? defaults.AdditionalLimiters,
            Priority = Priority ?? defaults.Priority,
            PermitTimeout = PermitTimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
        };
        return (definition, wireErrors);
    }
}

/// <summary>Body of <c>PUT /api/limiters/{name}</c> (admin key).</summary>
public sealed record SetLimitsRequest
{
    /// <summary>Permits that may be held at once (required).</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>The account's requests per minute; omitted: no rate budget.</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>Share of the rate budget used; omitted: the silo's.</summary>
    public double? RateSafetyFactor { get; init; }

    /// <summary>The body for <paramref name="limits"/>.</summary>
    public static SetLimitsRequest From(LimiterLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new SetLimitsRequest { MaxConcurrency = limits.MaxConcurrency, RequestsPerMinute = limits.RequestsPerMinute, RateSafetyFactor = limits.RateSafetyFactor };
    }

    /// <summary>The limits; a missing <c>maxConcurrency</c> is reported with every other problem.</summary>
    public LimiterLimits ToLimits()
    {
        if (MaxConcurrency is { } max)
        {
            return new LimiterLimits(max, RequestsPerMinute, RateSafetyFactor);
        }

        // Validate the rest with a stand-in limit so one answer lists every problem.
        var others = LimiterLimitsValidator.Validate(new LimiterLimits(1, RequestsPerMinute, RateSafetyFactor));
        throw new FloodgateValidationException(["maxConcurrency is required (permits that may be held at once).", .. others]);
    }
}
