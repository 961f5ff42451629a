namespace Floodgate.Batches;

/// <summary>One batch in the list of batches: what it is and how it stands (counts as of its last change of state).</summary>
/// <param name="BatchId">The batch id.</param>
/// <param name="State">Running, Cancelling, Completed or Cancelled.</param>
/// <param name="Total">Items in the batch (while a streamed submission is still sending: received so far).</param>
/// <param name="Succeeded">Items finished with a result.</param>
/// <param name="Failed">Items finished with an error.</param>
/// <param name="Cancelled">Items cancelled.</param>
/// <param name="Limiter">The global limiter the batch runs under.</param>
/// <param name="SubmittedAt">When the batch was submitted.</param>
/// <param name="FinishedAt">When the last outcome was recorded, once finished.</param>
/// <param name="RetryRounds">How many times its failed items were run again.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchSummary")]
public sealed record BatchSummary(
    [property: Id(0)] string BatchId,
    [property: Id(1)] BatchState State,
    [property: Id(2)] int Total,
    [property: Id(3)] int Succeeded,
    [property: Id(4)] int Failed,
    [property: Id(5)] int Cancelled,
    [property: Id(6)] string Limiter,
    [property: Id(7)] DateTimeOffset SubmittedAt,
    [property: Id(8)] DateTimeOffset? FinishedAt,
    [property: Id(9)] int RetryRounds)
{
    /// <summary>Items with an outcome.</summary>
    public int Done => Succeeded + Failed + Cancelled;
}

/// <summary>Which batches to list: newest first, optionally only those in one state, one page at a time.</summary>
/// <param name="State">Only batches in this state; null for every state.</param>
/// <param name="Limit">Most batches in one page (1 to <see cref="MaxLimit"/>).</param>
/// <param name="After">The <see cref="BatchListPage.Next"/> of the previous page; null for the first page.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchListQuery")]
public sealed record BatchListQuery(
    [property: Id(0)] BatchState? State = null,
    [property: Id(1)] int Limit = BatchListQuery.DefaultLimit,
    [property: Id(2)] string? After = null)
{
    /// <summary>Page size when the caller names none.</summary>
    public const int DefaultLimit = 50;

    /// <summary>Largest page.</summary>
    public const int MaxLimit = 500;

    /// <summary>Every problem of the query; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Limit is < 1 or > MaxLimit)
        {
            errors.Add($"Limit must be between 1 and {MaxLimit} (got {Limit}).");
        }

        if (State is { } state && !Enum.IsDefined(state))
        {
            errors.Add($"State must be running, cancelling, completed or cancelled (got {(int)state}).");
        }

        if (After is not null && !BatchListCursor.TryParse(After, out _))
        {
            errors.Add($"'{(After.Length > 40 ? After[..40] + "…" : After)}' is not a cursor from a previous page of the list.");
        }

        return errors;
    }
}

/// <summary>One page of the list of batches, newest first.</summary>
/// <param name="Batches">The batches of this page.</param>
/// <param name="Next">Pass as <see cref="BatchListQuery.After"/> for the next page; null on the last page.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.BatchListPage")]
public sealed record BatchListPage(
    [property: Id(0)] IReadOnlyList<BatchSummary> Batches,
    [property: Id(1)] string? Next);

/// <summary>
/// Where a page of the list ends: the submission time and id of its last batch (the list's order), as
/// <c>{ticks}.{batchId}</c>. Stable while batches come and go: the next page starts after that point, not at an index.
/// </summary>
public readonly record struct BatchListCursor(DateTimeOffset SubmittedAt, string BatchId)
{
    /// <summary>The text form handed to callers.</summary>
    public override string ToString() => $"{SubmittedAt.UtcTicks}.{BatchId}";

    /// <summary>Reads a cursor made by <see cref="ToString"/>.</summary>
    public static bool TryParse(string? text, out BatchListCursor cursor)
    {
        cursor = default;
        var dot = text?.IndexOf('.') ?? -1;
        if (dot <= 0 || !long.TryParse(text![..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks || Validation.Names.Check("Batch id", text[(dot + 1)..]) is not null)
        {
            return false;
        }

        cursor = new BatchListCursor(new DateTimeOffset(ticks, TimeSpan.Zero), text[(dot + 1)..]);
        return true;
    }

    /// <summary>True when <paramref name="summary"/> comes after this point in the list (newest first, then by id).</summary>
    public bool Precedes(BatchSummary summary) =>
        summary.SubmittedAt.UtcTicks < SubmittedAt.UtcTicks
        || (summary.SubmittedAt.UtcTicks == SubmittedAt.UtcTicks && string.CompareOrdinal(summary.BatchId, BatchId) > 0);
}

/// <summary>The list of batches (key: <see cref="Key"/>): one entry per batch submitted and not yet expired, newest first.</summary>
[Alias("Floodgate.IBatchIndexGrain")]
public interface IBatchIndexGrain : IGrainWithStringKey
{
    /// <summary>The key of the one index grain.</summary>
    public const string Key = "batches";

    /// <summary>One page of batches; throws <see cref="Validation.FloodgateValidationException"/> for an invalid query.</summary>
    [Alias("List")]
    Task<BatchListPage> ListAsync(BatchListQuery query);
}
