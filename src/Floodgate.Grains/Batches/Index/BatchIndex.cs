using Floodgate.Batches;
using Floodgate.Validation;

namespace Floodgate.Grains.Batches.Index;

/// <summary>
/// The list of batches, free of Orleans: one summary per batch, newest first (then by id), paged by cursor and filtered
/// by state. Holds at most <c>capacity</c> entries: beyond it the oldest finished batches leave the list first.
/// </summary>
internal sealed class BatchIndex(int capacity)
{
    private static readonly Comparer<BatchSummary> NewestFirst = Comparer<BatchSummary>.Create((a, b) =>
    {
        var byTime = b.SubmittedAt.UtcTicks.CompareTo(a.SubmittedAt.UtcTicks);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.BatchId, b.BatchId);
    });

    private readonly Dictionary<string, BatchSummary> _byId = new(StringComparer.Ordinal);
    private readonly SortedSet<BatchSummary> _ordered = new(NewestFirst);

    public int Count => _byId.Count;

    /// <summary>Every entry, newest first (what the index's record stores).</summary>
    public IReadOnlyList<BatchSummary> Entries => [.. _ordered];

    /// <summary>Adds or replaces the batch's entry; true when something changed.</summary>
    public bool Upsert(BatchSummary summary)
    {
        if (_byId.TryGetValue(summary.BatchId, out var current))
        {
            if (current == summary)
            {
                return false;
            }

            _ordered.Remove(current);
        }

        _byId[summary.BatchId] = summary;
        _ordered.Add(summary);
        Trim();
        return true;
    }

    /// <summary>Removes the batch's entry; true when it had one.</summary>
    public bool Remove(string batchId)
    {
        if (!_byId.Remove(batchId, out var current))
        {
            return false;
        }

        _ordered.Remove(current);
        return true;
    }

    /// <summary>One page; throws <see cref="FloodgateValidationException"/> for an invalid query.</summary>
    public BatchListPage List(BatchListQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var errors = query.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        IEnumerable<BatchSummary> entries = _ordered;
        if (query.After is not null && BatchListCursor.TryParse(query.After, out var after))
        {
            entries = entries.SkipWhile(s => !after.Precedes(s));
        }

        if (query.State is { } state)
        {
            entries = entries.Where(s => s.State == state);
        }

        // One more than the page tells whether another page follows.
        var page = entries.Take(query.Limit + 1).ToList();
        var more = page.Count > query.Limit;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        var next = more ? new BatchListCursor(page[^1].SubmittedAt, page[^1].BatchId).ToString() : null;
        return new BatchListPage(page, next);
    }

    private void Trim()
    {
        while (_byId.Count > capacity)
        {
            var oldest = _ordered.Reverse().FirstOrDefault(s => s.State is BatchState.Completed or BatchState.Cancelled) ?? _ordered.Max!;
            Remove(oldest.BatchId);
        }
    }
}
