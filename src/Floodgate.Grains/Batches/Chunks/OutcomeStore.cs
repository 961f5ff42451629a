using Floodgate.Batches;

namespace Floodgate.Grains.Batches.Chunks;

/// <summary>
/// A batch's outcomes in storage chunks. Outcomes are added as items report; <see cref="WriteAsync"/> writes one changed
/// chunk (the caller keeps one write per chunk outstanding) and says which positions became durable. A chunk being
/// filled keeps its last written version in memory, so a write costs one chunk, never the batch; readers get durable
/// outcomes from those chunks or from storage (a few chunks cached). Used from one activation's turns only.
/// </summary>
internal sealed class OutcomeStore(ChunkStorage storage, int chunkSize, int cachedChunks)
{
    private readonly Dictionary<int, OpenChunk> _open = [];
    private readonly ChunkCache<ReadCopy> _read = new(cachedChunks);
    private readonly Dictionary<int, Task<ReadCopy>> _loading = [];

    public int ChunkSize { get; } = chunkSize;

    /// <summary>Chunks held for writing now (being filled, or written and kept until more are open than the cache holds).</summary>
    public int OpenChunks => _open.Count;

    /// <summary>Chunks held for readers now.</summary>
    public int CachedChunks => _read.Count;

    /// <summary>Some outcome is not written yet.</summary>
    public bool HasUnwritten => _open.Values.Any(c => c.Unwritten.Count > 0);

    /// <summary>Chunks with outcomes to write and no write of theirs running.</summary>
    public IReadOnlyList<int> ChunksToWrite() =>
        _open.Where(c => c.Value.Unwritten.Count > 0 && !c.Value.Writing).Select(c => c.Key).Order().ToList();

    /// <summary>Adds an outcome to write (the ledger has accepted it as the position's one outcome).</summary>
    public void Add(ItemOutcome outcome) => Open(outcome.Position / ChunkSize).Unwritten.Add(outcome);

    /// <summary>
    /// Writes chunk <paramref name="chunk"/> with every outcome added to it so far; returns the positions that are durable
    /// now. Reads the stored chunk first when it is not in memory (it was evicted, or written by a lost activation). A
    /// failed write keeps the outcomes for the next one; an <see cref="Orleans.Storage.InconsistentStateException"/> means
    /// another activation wrote the chunk.
    /// </summary>
    public async Task<IReadOnlyList<int>> WriteAsync(int chunk)
    {
        var open = Open(chunk);
        if (open.Writing)
        {
            throw new InvalidOperationException($"Outcome chunk {chunk} is being written already.");
        }

        open.Writing = true;
        var batch = open.Unwritten;
        open.Unwritten = [];
        try
        {
            if (open.Base is null)
            {
                var stored = await storage.ReadOutcomesAsync(chunk, ChunkSize);
                (open.Base, open.ETag) = (stored.Outcomes, stored.ETag);
            }

            var start = chunk * ChunkSize;
            foreach (var outcome in batch)
            {
                open.Base[outcome.Position - start] = outcome;
            }

            open.ETag = await storage.WriteOutcomesAsync(chunk, open.Base, open.ETag);
            _read.Remove(chunk);
            return batch.Select(o => o.Position).ToList();
        }
        catch
        {
            // Not durable: they go in the next write (the base may hold them already; writing them again is the same).
            open.Unwritten.InsertRange(0, batch);
            throw;
        }
        finally
        {
            open.Writing = false;
        }
    }

    /// <summary>
    /// Lets go of written chunks nobody adds to, beyond <paramref name="keep"/> (default: what the cache holds; least
    /// recently written first): a chunk that gets another outcome later is read from storage once more.
    /// </summary>
    public void Trim(int? keep = null)
    {
        var idle = _open.Where(c => c.Value is { Writing: false, Unwritten.Count: 0 }).OrderBy(c => c.Value.Touched).Select(c => c.Key).ToList();
        for (var i = 0; i < idle.Count && _open.Count > (keep ?? cachedChunks); i++)
        {
            _open.Remove(idle[i]);
        }
    }

    /// <summary>
    /// Reads a stored chunk while the batch is rebuilt from storage; with <paramref name="eraseFailed"/> its failed
    /// outcomes are removed in storage first (they run again). The chunk is kept for writing when it has gaps.
    /// </summary>
    public async Task<ItemOutcome?[]> RestoreAsync(int chunk, bool eraseFailed)
    {
        var stored = await storage.ReadOutcomesAsync(chunk, ChunkSize);
        var outcomes = stored.Outcomes;
        var etag = stored.ETag;
        if (eraseFailed && outcomes.Any(o => o?.Status == ItemStatus.Failed))
        {
            outcomes = outcomes.Select(o => o?.Status == ItemStatus.Failed ? null : o).ToArray();
            etag = await storage.WriteOutcomesAsync(chunk, outcomes, etag);
        }

        if (Array.IndexOf(outcomes, null) >= 0)
        {
            var open = Open(chunk);
            (open.Base, open.ETag) = (outcomes, etag);
        }

        return outcomes;
    }

    /// <summary>
    /// The outcomes of positions <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/>, all below
    /// <paramref name="durablePrefix"/>. A position at or after <paramref name="cancelledFrom"/> without a stored outcome
    /// was cancelled before it was dispatched.
    /// </summary>
    public async Task<IReadOnlyList<ItemOutcome>> ReadAsync(int from, int count, int durablePrefix, int? cancelledFrom)
    {
        var end = from + count;
        if (from < 0 || end > durablePrefix)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Only outcomes below the durable prefix {durablePrefix} may be read.");
        }

        var page = new List<ItemOutcome>(count);
        for (var position = from; position < end;)
        {
            var chunk = position / ChunkSize;
            var start = chunk * ChunkSize;
            var chunkEnd = Math.Min(end, start + ChunkSize);

            // A chunk being written holds every durable outcome of its positions; otherwise a copy read from storage does.
            var outcomes = _open.TryGetValue(chunk, out var open) && open.Base is not null
                ? open.Base
                : await ReadCopyAsync(chunk, chunkEnd, durablePrefix);
            for (; position < chunkEnd; position++)
            {
                page.Add(outcomes[position - start]
                    ?? (position >= cancelledFrom
                        ? ItemOutcome.Cancelled(position, 0)
                        : throw new InvalidOperationException($"Outcome {position} of batch {storage.Batch} is durable but missing from its chunk.")));
            }
        }

        return page;
    }

    private OpenChunk Open(int chunk)
    {
        if (!_open.TryGetValue(chunk, out var open))
        {
            open = new OpenChunk();
            _open[chunk] = open;
        }

        open.Touched = ++_touches;
        return open;
    }

    private long _touches;

    private async Task<ItemOutcome?[]> ReadCopyAsync(int chunk, int neededEnd, int durablePrefix)
    {
        while (true)
        {
            if (_read.TryGet(chunk, out var copy) && copy.ValidBelow >= neededEnd)
            {
                return copy.Outcomes;
            }

            if (!_loading.TryGetValue(chunk, out var loading))
            {
                loading = Load(chunk, durablePrefix);
                if (!loading.IsCompleted)
                {
                    _loading[chunk] = loading;
                }
            }

            copy = await loading;
            if (copy.ValidBelow >= neededEnd)
            {
                return copy.Outcomes;
            }

            // A read that started before these positions were durable: read again.
            _read.Remove(chunk);
        }

        async Task<ReadCopy> Load(int chunk, int validBelow)
        {
            try
            {
                // Every outcome below the durable prefix at the start of the read is in what it returns.
                var stored = await storage.ReadOutcomesAsync(chunk, ChunkSize);
                var copy = new ReadCopy(stored.Outcomes, validBelow);
                _read.Put(chunk, copy);
                return copy;
            }
            finally
            {
                _loading.Remove(chunk);
            }
        }
    }

    private sealed class OpenChunk
    {
        /// <summary>The chunk as last written (or read) plus outcomes merged since; null until needed.</summary>
        public ItemOutcome?[]? Base { get; set; }

        public string? ETag { get; set; }

        public List<ItemOutcome> Unwritten { get; set; } = [];

        public bool Writing { get; set; }

        public long Touched { get; set; }
    }

    private sealed record ReadCopy(ItemOutcome?[] Outcomes, int ValidBelow);
}
