using System.Text.Json;
using System.Text.Json.Serialization;
using Floodgate.Batches;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// Body of <c>POST /api/batches</c>. Everything but <see cref="Items"/> is optional; what is left out takes the
/// defaults of <see cref="BatchSpec"/> (and so of <see cref="FloodgateDefaults"/>), exactly as in the SDK and the CLI.
/// </summary>
internal sealed record SubmitBatchRequest
{
    /// <summary>The items, any JSON values.</summary>
    public IReadOnlyList<JsonElement>? Items { get; init; }

    public string? Processor { get; init; }

    /// <summary>Processor options; strings, numbers and booleans (numbers and booleans are passed on as their JSON text).</summary>
    public IReadOnlyDictionary<string, JsonElement>? ProcessorOptions { get; init; }

    public string? Limiter { get; init; }

    public int? LocalLimit { get; init; }

    public int? GlobalLimit { get; init; }

    public string? Breaker { get; init; }

    public string? IdempotencyKey { get; init; }

    public IReadOnlyList<string>? AdditionalLimiters { get; init; }

    public AcquirePriority? Priority { get; init; }

    public int? PermitTimeoutMs { get; init; }

    /// <summary>Names the batch; otherwise an id is generated (or derived from <see cref="IdempotencyKey"/>).</summary>
    public string? BatchId { get; init; }

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
            throw new FloodgateValidationException([.. wireErrors, .. BatchSpecValidator.Validate(spec)]);
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
            throw new FloodgateValidationException([.. wireErrors, .. BatchSpecValidator.Validate(definition)]);
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
                    wireErrors.Add($"Processor option '{key}' must be a string, number or boolean (got {value.ValueKind.ToString().ToLowerInvariant()}).");
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

/// <summary>Body of <c>PUT /api/limiters/{name}</c> (admin).</summary>
internal sealed record SetLimitsRequest
{
    public int? MaxConcurrency { get; init; }

    public int? RequestsPerMinute { get; init; }

    public double? RateSafetyFactor { get; init; }

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

/// <summary>Body of <c>POST /api/limiters/{name}/leases</c>; every field optional (the body too).</summary>
internal sealed record AcquireLeaseRequest
{
    /// <summary>Who holds the lease (fairness is per holder); default <see cref="ApiDefaults.LeaseHolder"/>.</summary>
    public string? Holder { get; init; }

    public int? Weight { get; init; }

    /// <summary>How long to queue for permits; default 0 (answer at once).</summary>
    public int? WaitMs { get; init; }

    /// <summary>Lease time-to-live; default the silo's <c>Limiters:DefaultLeaseTtl</c>.</summary>
    public int? TtlMs { get; init; }

    public AcquirePriority? Priority { get; init; }

    /// <summary>
    /// Makes the acquire idempotent and cancellable: repeating it returns the same lease (or joins the same wait), and
    /// <c>DELETE /api/limiters/{name}/requests/{requestId}</c> undoes it. Default: an id the API generates, so a caller that
    /// hangs up still leaves nothing behind.
    /// </summary>
    public string? RequestId { get; init; }

    /// <summary>
    /// The grain validates holder, weight, wait and TTL against the limiter's own limit and options; the request id is
    /// checked here (the grain takes any id).
    /// </summary>
    public AcquireRequest ToAcquireRequest()
    {
        if (RequestId is not null)
        {
            RequestIds.Require(RequestId);
        }

        return new(
            Holder ?? ApiDefaults.LeaseHolder,
            Weight ?? 1,
            TimeSpan.FromMilliseconds(WaitMs ?? 0),
            TtlMs is { } ttl ? TimeSpan.FromMilliseconds(ttl) : null,
            Priority ?? AcquirePriority.Normal,
            RequestId ?? AcquireRequest.NewRequestId());
    }
}

/// <summary>Body of <c>PUT /api/limiters/{name}/leases/{leaseId}</c>; optional.</summary>
internal sealed record RenewLeaseRequest
{
    /// <summary>When given, the lease is renewed only if this holder holds it.</summary>
    public string? Holder { get; init; }

    public RenewRequest ToRenewRequest(string leaseId) => new(leaseId, Holder);
}

/// <summary>Answer of a granted or renewed lease: <c>{"lease": {…}}</c>.</summary>
internal sealed record LeaseResponse(Lease Lease);

/// <summary>Answer of <c>DELETE …/requests/{requestId}</c>; <c>detail</c> says why nothing was undone.</summary>
internal sealed record CancelAcquireResponse(
    bool Cancelled,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null);

/// <summary>Answer of a release; <c>detail</c> says why nothing was released.</summary>
internal sealed record ReleaseResponse(
    bool Released,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null);
