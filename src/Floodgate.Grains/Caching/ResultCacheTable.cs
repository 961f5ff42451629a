namespace Floodgate.Grains.Caching;

/// <summary>
/// One shard of the shared cache, as a plain class (the grain is a shell around it): results by key with a TTL and an
/// LRU bound, and single flight — the first caller of a missing key leads (computes it), later callers wait for the
/// leader's result. A leader that neither completes nor abandons within the lead timeout is replaced by the next caller.
/// </summary>
internal sealed class ResultCacheTable(ResultCacheOptions options, TimeProvider time)
{
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private readonly Dictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    /// <summary>Results held.</summary>
    public int Count => _entries.Count;

    /// <summary>Keys being computed.</summary>
    public int InFlight => _flights.Count;

    /// <summary>What <paramref name="claimant"/> should do for <paramref name="key"/>.</summary>
    public CacheLookup Lookup(string key, string claimant)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var node))
        {
            if (node.Value.ExpiresAt > now)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return CacheLookup.Hit(node.Value.ResultJson);
            }

            Remove(node);
        }

        if (_flights.TryGetValue(key, out var flight) && flight.Claimant != claimant && flight.LeadUntil > now)
        {
            return CacheLookup.Wait(flight.Done.Task);
        }

        // No one computes it, the same caller asks again, or its leader went quiet: this caller leads.
        flight?.Done.TrySetResult(false);
        _flights[key] = new Flight(claimant, now + options.LeadTimeout);
        return CacheLookup.Lead;
    }

    /// <summary>Stores a computed result (unless too large) and wakes the waiters.</summary>
    public void Complete(string key, string claimant, string resultJson)
    {
        if (resultJson.Length <= options.MaxResultLength)
        {
            if (_entries.TryGetValue(key, out var old))
            {
                Remove(old);
            }

            _entries[key] = _recency.AddFirst(new Entry(key, resultJson, time.GetUtcNow() + options.Ttl));
            while (_entries.Count > options.MaxEntriesPerShard)
            {
                Remove(_recency.Last!);
            }
        }

        // A result is good whoever computed it; a too-large one still releases the waiters, who then compute their own.
        if (_flights.Remove(key, out var flight))
        {
            flight.Done.TrySetResult(true);
        }
    }

    /// <summary>The leader gave up (its item failed or was cancelled): the next caller leads.</summary>
    public void Abandon(string key, string claimant)
    {
        if (_flights.TryGetValue(key, out var flight) && flight.Claimant == claimant)
        {
            _flights.Remove(key);
            flight.Done.TrySetResult(false);
        }
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
    }

    private sealed record Entry(string Key, string ResultJson, DateTimeOffset ExpiresAt);

    private sealed class Flight(string claimant, DateTimeOffset leadUntil)
    {
        public string Claimant { get; } = claimant;

        public DateTimeOffset LeadUntil { get; } = leadUntil;

        /// <summary>True when a result was stored, false when the leader gave up or was replaced.</summary>
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What a cache lookup tells its caller: take the result, compute it (lead), or wait and ask again.</summary>
internal sealed record CacheLookup(CacheLookupKind Kind, string? ResultJson, Task<bool>? Changed)
{
    public static readonly CacheLookup Lead = new(CacheLookupKind.Lead, null, null);

    public static readonly CacheLookup Pending = new(CacheLookupKind.Pending, null, null);

    public static CacheLookup Hit(string resultJson) => new(CacheLookupKind.Hit, resultJson, null);

    public static CacheLookup Wait(Task<bool> changed) => new(CacheLookupKind.Pending, null, changed);
}

/// <summary>The kinds of <see cref="CacheLookup"/>.</summary>
internal enum CacheLookupKind
{
    Hit,
    Lead,
    Pending,
}
