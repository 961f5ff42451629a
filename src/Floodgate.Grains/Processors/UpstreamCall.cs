namespace Floodgate.Grains.Processors;

/// <summary>
/// The idempotency key of the upstream call in progress on this async flow, for client libraries that build the
/// request themselves (the OpenAI SDK): a pipeline policy reads it and sets the header.
/// </summary>
public static class UpstreamCall
{
    /// <summary>Header carrying <c>{batchId}:{position}</c>, so that a call repeated after a crash can be recognised.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly AsyncLocal<string?> Current = new();

    /// <summary>The key of the call in progress, or null outside one.</summary>
    public static string? IdempotencyKey => Current.Value;

    /// <summary>Marks the calls made until the returned scope is disposed as the item's (<see cref="ItemContext.IdempotencyKey"/>).</summary>
    public static IDisposable For(ItemContext context)
    {
        var previous = Current.Value;
        Current.Value = context.IdempotencyKey;
        return new Scope(previous);
    }

    private sealed class Scope(string? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
