namespace Floodgate.Grains.Batches.Chunks;

/// <summary>
/// A batch's items: each chunk is written once as it arrives, and read back on demand for dispatch (a few chunks
/// cached, the next one fetched ahead of the dispatch cursor). Used from one activation's turns only.
/// </summary>
internal sealed class ItemStore(ChunkStorage storage, int chunkSize, int cachedChunks)
{
    private readonly ChunkCache<List<string>> _cache = new(cachedChunks);
    private readonly Dictionary<int, Task<List<string>>> _loading = [];

    public int ChunkSize { get; } = chunkSize;

    /// <summary>Chunks held in memory now.</summary>
    public int CachedChunks => _cache.Count;

    /// <summary>Stores chunk <paramref name="chunk"/>; returns once it is durable.</summary>
    public async Task WriteAsync(int chunk, IReadOnlyList<string> items, bool last)
    {
        var record = new ItemChunk { Items = [.. items], IsLast = last };
        try
        {
            await storage.WriteItemsAsync(chunk, record);
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            // Stored already: an earlier write of this same chunk whose answer was lost. Anything else is a real conflict.
            var stored = await storage.ReadItemsAsync(chunk);
            if (stored is null || stored.Items.Count != record.Items.Count || stored.IsLast != last)
            {
                throw;
            }
        }

        _cache.Put(chunk, record.Items);
    }

    /// <summary>Reads a chunk that may have been stored (by this or a lost activation); null when it was not.</summary>
    public async Task<ItemChunk?> ReadAsync(int chunk)
    {
        var stored = await storage.ReadItemsAsync(chunk);
        if (stored is not null)
        {
            _cache.Put(chunk, stored.Items);
        }

        return stored;
    }

    /// <summary>The item at <paramref name="position"/> (its chunk is read if it is not in memory).</summary>
    public async ValueTask<string> GetAsync(int position)
    {
        var chunk = position / ChunkSize;
        var items = _cache.TryGet(chunk, out var cached) ? cached : await LoadAsync(chunk);
        return items[position - (chunk * ChunkSize)];
    }

    /// <summary>Starts reading a chunk that dispatch will need soon; a failure here is met again by <see cref="GetAsync"/>.</summary>
    public void Prefetch(int chunk)
    {
        if (chunk >= 0 && !_cache.TryGet(chunk, out _))
        {
            _ = LoadAsync(chunk).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        }
    }

    /// <summary>Forgets every chunk held in memory (a finished batch dispatches nothing more).</summary>
    public void Clear() => _cache.Clear();

    private Task<List<string>> LoadAsync(int chunk)
    {
        if (!_loading.TryGetValue(chunk, out var loading))
        {
            // One read per chunk however many ask; a read that completed at once has nothing to share.
            loading = Load(chunk);
            if (!loading.IsCompleted)
            {
                _loading[chunk] = loading;
            }
        }

        return loading;

        async Task<List<string>> Load(int chunk)
        {
            try
            {
                var stored = await storage.ReadItemsAsync(chunk)
                    ?? throw new InvalidOperationException($"Items chunk {chunk} of batch {storage.Batch} is missing from storage.");
                _cache.Put(chunk, stored.Items);
                return stored.Items;
            }
            finally
            {
                _loading.Remove(chunk);
            }
        }
    }
}
