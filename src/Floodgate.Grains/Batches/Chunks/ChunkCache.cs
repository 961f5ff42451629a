namespace Floodgate.Grains.Batches.Chunks;

/// <summary>The most recently used chunks, at most a fixed number: what a batch keeps in memory of what is in storage.</summary>
internal sealed class ChunkCache<T>(int capacity)
    where T : class
{
    private readonly Dictionary<int, LinkedListNode<(int Chunk, T Value)>> _entries = [];
    private readonly LinkedList<(int Chunk, T Value)> _recency = [];

    public int Count => _entries.Count;

    public bool TryGet(int chunk, out T value)
    {
        if (_entries.TryGetValue(chunk, out var node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
            value = node.Value.Value;
            return true;
        }

        value = null!;
        return false;
    }

    public void Put(int chunk, T value)
    {
        Remove(chunk);
        _entries[chunk] = _recency.AddFirst((chunk, value));
        while (_entries.Count > capacity)
        {
            var oldest = _recency.Last!;
            _recency.RemoveLast();
            _entries.Remove(oldest.Value.Chunk);
        }
    }

    public void Remove(int chunk)
    {
        if (_entries.Remove(chunk, out var node))
        {
            _recency.Remove(node);
        }
    }

    public void Clear()
    {
        _entries.Clear();
        _recency.Clear();
    }
}
