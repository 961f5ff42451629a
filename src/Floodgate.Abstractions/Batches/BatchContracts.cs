namespace Floodgate.Batches;

/// <summary>Where an item stands.</summary>
public enum ItemStatus
{
    /// <summary>Not yet dispatched.</summary>
    Pending = 0,

    /// <summary>Dispatched to its item grain.</summary>
    InFlight = 1,

    /// <summary>Finished with a result.</summary>
    Succeeded = 2,

    /// <summary>Finished with an error after its retries.</summary>
    Failed = 3,

    /// <summary>Cancelled before it finished.</summary>
    Cancelled = 4,
}

/// <summary>Where a batch stands.</summary>
public enum BatchState
{
    /// <summary>Items are being processed.</summary>
    Running = 0,

    /// <summary>Every item has an outcome.</summary>
    Completed = 1,

    /// <summary>Cancel was requested; items still in flight are finishing.</summary>
    Cancelling = 2,

    /// <summary>Cancelled and every item has an outcome.</summary>
    Cancelled = 3,
}

/// <summary>The one outcome of one item.</summary>
/// <param name="Position">The item's index in the input.</param>
/// <param name="Status">Succeeded, Failed or Cancelled.</param>
/// <param name="Result">The processor's result as JSON text, when succeeded.</param>
/// <param name="Error">What went wrong, when failed (never a secret or a raw upstream body).</param>
/// <param name="Attempts">Upstream attempts made.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.ItemOutcome")]
public sealed record ItemOutcome(
    [property: Id(0)] int Position,
    [property: Id(1)] ItemStatus Status,
    [property: Id(2)] string? Result,
    [property: Id(3)] string? Error,
    [property: Id(4)] int Attempts)
{
    /// <summary>True when the result came from the shared result cache: no upstream call was made for this item.</summary>
    [Id(5)] public bool Cached { get; init; }

    /// <summary>A success.</summary>
    public static ItemOutcome Succeeded(int position, string result, int attempts) =>
        new(position, ItemStatus.Succeeded, result, null, attempts);

    /// <summary>A failure.</summary>
    public static ItemOutcome Failed(int position, string error, int attempts) =>
        new(position, ItemStatus.Failed, null, error, attempts);

    /// <summary>A cancellation.</summary>
    public static ItemOutcome Cancelled(int position, int attempts) =>
        new(position, ItemStatus.Cancelled, null, "cancelled", attempts);
}

/// <summary>A live snapshot of a batch.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchProgress")]
public sealed record BatchProgress
{
    /// <summary>The batch id.</summary>
    [Id(0)] public required string BatchId { get; init; }

    /// <summary>Running, Completed, Cancelling or Cancelled.</summary>
    [Id(1)] public required BatchState State { get; init; }

    /// <summary>Items in the batch.</summary>
    [Id(2)] public required int Total { get; init; }

    /// <summary>Items not yet dispatched.</summary>
    [Id(3)] public required int Pending { get; init; }

    /// <summary>Items dispatched and not finished.</summary>
    [Id(4)] public required int InFlight { get; init; }

    /// <summary>Items finished with a result.</summary>
    [Id(5)] public required int Succeeded { get; init; }

    /// <summary>Items finished with an error.</summary>
    [Id(6)] public required int Failed { get; init; }

    /// <summary>Items cancelled.</summary>
    [Id(7)] public required int Cancelled { get; init; }

    /// <summary>The configured local limit.</summary>
    [Id(8)] public required int LocalLimit { get; init; }

    /// <summary>The local limit in force after adaptive halving on rate limits (≤ <see cref="LocalLimit"/>).</summary>
    [Id(9)] public required int EffectiveLocalLimit { get; init; }

    /// <summary>Retries across all items.</summary>
    [Id(10)] public required int Retries { get; init; }

    /// <summary>Upstream rate-limit (429) answers across all items.</summary>
    [Id(11)] public required int RateLimitHits { get; init; }

    /// <summary>Attempts the shared circuit breaker rejected.</summary>
    [Id(12)] public required int BreakerRejections { get; init; }

    /// <summary>Finished items per second since the batch started.</summary>
    [Id(13)] public required double ItemsPerSecond { get; init; }

    /// <summary>Estimated time to finish at the current rate; null until something finished.</summary>
    [Id(14)] public required TimeSpan? Eta { get; init; }

    /// <summary>Mean item processing time.</summary>
    [Id(15)] public required TimeSpan AverageLatency { get; init; }

    /// <summary>95th percentile item processing time (over the most recent items).</summary>
    [Id(16)] public required TimeSpan P95Latency { get; init; }

    /// <summary>The global limiter the batch runs under.</summary>
    [Id(17)] public required string Limiter { get; init; }

    /// <summary>Warnings, e.g. an explicit global limit that conflicted with the one in force.</summary>
    [Id(18)] public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>Increases on every change; lets watchers wait for the next change.</summary>
    [Id(19)] public required long Version { get; init; }

    /// <summary>When the batch was submitted.</summary>
    [Id(20)] public required DateTimeOffset SubmittedAt { get; init; }

    /// <summary>When the last outcome arrived, once finished.</summary>
    [Id(21)] public required DateTimeOffset? FinishedAt { get; init; }

    /// <summary>
    /// True while a streamed submission is still sending items: <see cref="Total"/> counts the items received so far,
    /// and items already received are running.
    /// </summary>
    [Id(22)] public bool IsReceiving { get; init; }

    /// <summary>How many times the failed items of this batch were run again (<c>retry</c>).</summary>
    [Id(23)] public int RetryRounds { get; init; }

    /// <summary>Items with an outcome.</summary>
    public int Done => Succeeded + Failed + Cancelled;

    /// <summary>True when every item has an outcome.</summary>
    public bool IsFinished => State is BatchState.Completed or BatchState.Cancelled;

    /// <summary>The batch as the list of batches shows it.</summary>
    public BatchSummary ToSummary() =>
        new(BatchId, State, Total, Succeeded, Failed, Cancelled, Limiter, SubmittedAt, FinishedAt, RetryRounds);
}

/// <summary>A slice of outcomes in input order.</summary>
/// <param name="Outcomes">Consecutive outcomes starting at the requested position.</param>
/// <param name="NextPosition">The position to ask for next.</param>
/// <param name="IsComplete">True when no outcome is left to read after this page.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.ResultPage")]
public sealed record ResultPage(
    [property: Id(0)] IReadOnlyList<ItemOutcome> Outcomes,
    [property: Id(1)] int NextPosition,
    [property: Id(2)] bool IsComplete);
