using System.Collections.Immutable;

namespace Floodgate.Batches;

/// <summary>
/// Everything about a batch but its items: the processor that handles each item and the limits it runs under. A
/// streamed submission sends this first and the items after it, in chunks.
/// </summary>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchDefinition")]
public record BatchDefinition
{
    /// <summary>Name of the processor registered on the silo (<c>echo</c>, <c>delay</c>, <c>openai-chat</c>, …).</summary>
    [Id(1)] public string Processor { get; init; } = FloodgateDefaults.ProcessorName;

    /// <summary>Options for the processor (never secrets: credentials live in silo configuration).</summary>
    [Id(2)] public IReadOnlyDictionary<string, string> ProcessorOptions { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The global limiter every upstream call of this batch is admitted by.</summary>
    [Id(3)] public string Limiter { get; init; } = FloodgateDefaults.LimiterName;

    /// <summary>At most this many items of the batch in flight.</summary>
    [Id(4)] public int LocalLimit { get; init; } = FloodgateDefaults.LocalLimit;

    /// <summary>An explicit global limit for <see cref="Limiter"/>; the first explicit configuration of a limiter wins.</summary>
    [Id(5)] public int? GlobalLimit { get; init; }

    /// <summary>The shared circuit breaker to consult; null uses the limiter name.</summary>
    [Id(6)] public string? Breaker { get; init; }

    /// <summary>Submitting twice with the same key returns the same batch.</summary>
    [Id(7)] public string? IdempotencyKey { get; init; }

    /// <summary>
    /// More limiters every upstream call must also be admitted by (nested admission: e.g. the account and one model,
    /// or per-stage limits). All are acquired in one fixed global order and all are released.
    /// </summary>
    [Id(8)] public IReadOnlyList<string> AdditionalLimiters { get; init; } = [];

    /// <summary>Priority class of the batch's permit requests.</summary>
    [Id(9)] public Limiting.AcquirePriority Priority { get; init; } = Limiting.AcquirePriority.Normal;

    /// <summary>How long one attempt waits for its permits; null uses the silo's <c>Items:AcquireTimeout</c>.</summary>
    [Id(10)] public TimeSpan? PermitTimeout { get; init; }

    /// <summary>Every limiter of the batch, in the global acquisition order (ordinal), without duplicates.</summary>
    public IReadOnlyList<string> AllLimiters =>
        AdditionalLimiters.Prepend(Limiter).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The breaker name in force: <see cref="Breaker"/> or the limiter name.</summary>
    public string EffectiveBreaker => string.IsNullOrEmpty(Breaker) ? Limiter : Breaker;

    /// <summary>This definition alone (without the items of a <see cref="BatchSpec"/>), to send ahead of streamed items.</summary>
    public BatchDefinition ToDefinition() => new(this);
}

/// <summary>A whole batch in one value: its <see cref="BatchDefinition"/> and its items.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchSpec")]
public sealed record BatchSpec : BatchDefinition
{
    /// <summary>An empty spec with default settings; set <see cref="Items"/> and any setting.</summary>
    public BatchSpec()
    {
    }

    /// <summary>A spec with the settings of <paramref name="definition"/>; set <see cref="Items"/>.</summary>
    public BatchSpec(BatchDefinition definition)
        : base(definition)
    {
    }

    /// <summary>The items, each one JSON value as text (a string item is <c>"\"word\""</c>).</summary>
    [Id(0)] public required IReadOnlyList<string> Items { get; init; }
}
