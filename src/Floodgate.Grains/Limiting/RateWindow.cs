namespace Floodgate.Grains.Limiting;

/// <summary>
/// A per-minute budget as a sliding 60-second window of grants: no window of 60 seconds ever holds more than
/// <see cref="Budget"/> units (a token bucket allows up to twice that across a refill boundary). For requests per minute
/// a grant of weight w is w upstream calls; for tokens per minute a grant is charged its estimated tokens, and
/// <see cref="Settle"/> later replaces the estimate by what the call really used.
/// </summary>
internal sealed class RateWindow(TimeProvider time)
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(1);

    /// <summary>Granularity of the persisted history: grants are rounded up to the end of their second.</summary>
    private static readonly TimeSpan BucketLength = TimeSpan.FromSeconds(1);

    private readonly Queue<Charge> _grants = new();

    // Charges that can still be settled, by the key they were recorded with (a lease id); they leave with the window.
    private readonly Dictionary<string, Charge> _byKey = new(StringComparer.Ordinal);
    private long _used;

    /// <summary>Calls allowed per window; null for no budget.</summary>
    public int? Budget { get; private set; }

    public int? RequestsPerMinute { get; private set; }

    public double SafetyFactor { get; private set; } = 1;

    public void Configure(int? requestsPerMinute, double safetyFactor)
    {
        RequestsPerMinute = requestsPerMinute;
        SafetyFactor = safetyFactor;
        Budget = requestsPerMinute is { } rpm ? Math.Max(1, (int)Math.Floor(rpm * safetyFactor)) : null;
    }

    /// <summary>Calls still allowed in the current window; null without a budget.</summary>
    public int? Available
    {
        get
        {
            if (Budget is not { } budget)
            {
                return null;
            }

            Trim();
            return (int)Math.Max(0, budget - _used);
        }
    }

    /// <summary>True when a grant of <paramref name="weight"/> calls fits in the window now.</summary>
    public bool CanGrant(int weight = 1) => Available is not { } available || available >= weight;

    /// <summary>True when a grant of <paramref name="weight"/> could ever fit (the weight is not above the budget).</summary>
    public bool CouldEverGrant(int weight) => Budget is not { } budget || weight <= budget;

    /// <summary>When a grant of <paramref name="weight"/> becomes possible; null when it is possible now (or never).</summary>
    public DateTimeOffset? NextFreeAt(int weight = 1)
    {
        if (CanGrant(weight) || Budget is not { } budget || weight > budget)
        {
            return null;
        }

        // Oldest grants leave the window first: find the one whose departure frees enough.
        var free = budget - _used;
        foreach (var charge in _grants)
        {
            free += charge.Weight;
            if (free >= weight)
            {
                return charge.At + Length;
            }
        }

        return null;
    }

    /// <summary>
    /// Charges <paramref name="weight"/> now. With a <paramref name="key"/> the charge can be corrected by
    /// <see cref="Settle"/> while it is in the window.
    /// </summary>
    public void Record(int weight = 1, string? key = null)
    {
        if (Budget is not null && weight > 0)
        {
            var charge = Add(time.GetUtcNow(), weight);
            if (key is not null)
            {
                charge.Key = key;
                _byKey[key] = charge;
            }
        }
    }

    /// <summary>
    /// Replaces the charge recorded under <paramref name="key"/> by <paramref name="weight"/> (idempotent: settling twice
    /// with the same figure changes nothing). When the charge is unknown — it left the window, or came from a
    /// predecessor's persisted window, which keeps no keys — a positive figure is charged now: counting a call twice
    /// only delays grants, counting it never could pass the budget. Returns true when the window changed.
    /// </summary>
    public bool Settle(string key, int weight)
    {
        if (Budget is null)
        {
            return false;
        }

        Trim();
        if (_byKey.TryGetValue(key, out var charge))
        {
            if (charge.Weight == weight)
            {
                return false;
            }

            _used += weight - charge.Weight;
            charge.Weight = weight;
            return true;
        }

        if (weight <= 0)
        {
            return false;
        }

        var late = Add(time.GetUtcNow(), weight);
        late.Key = key;
        _byKey[key] = late;
        return true;
    }

    /// <summary>The window's grants, summed per second and stamped with the end of that second (never earlier than real).</summary>
    public List<RateBucket> Snapshot()
    {
        Trim();
        var buckets = new List<RateBucket>();
        foreach (var (at, weight) in _grants.Select(c => (c.At, c.Weight)))
        {
            if (weight <= 0)
            {
                continue;
            }

            var end = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % BucketLength.Ticks), TimeSpan.Zero) + BucketLength;
            if (buckets.Count > 0 && buckets[^1].At == end)
            {
                buckets[^1] = buckets[^1] with { Calls = buckets[^1].Calls + weight };
            }
            else
            {
                buckets.Add(new RateBucket(end, weight));
            }
        }

        return buckets;
    }

    /// <summary>Takes over a predecessor's window, so a reactivation never passes the budget within one minute.</summary>
    public void Restore(IEnumerable<RateBucket> buckets)
    {
        foreach (var bucket in buckets.OrderBy(b => b.At))
        {
            Add(bucket.At, bucket.Calls);
        }

        Trim();
    }

    private Charge Add(DateTimeOffset at, int weight)
    {
        var charge = new Charge(at, weight);
        _grants.Enqueue(charge);
        _used += weight;
        return charge;
    }

    private void Trim()
    {
        var horizon = time.GetUtcNow() - Length;
        while (_grants.Count > 0 && _grants.Peek().At <= horizon)
        {
            var charge = _grants.Dequeue();
            _used -= charge.Weight;
            if (charge.Key is { } key && _byKey.TryGetValue(key, out var known) && ReferenceEquals(known, charge))
            {
                _byKey.Remove(key);
            }
        }
    }

    /// <summary>One grant in the window; its weight changes only when it is settled.</summary>
    private sealed class Charge(DateTimeOffset at, int weight)
    {
        public DateTimeOffset At { get; } = at;

        public int Weight { get; set; } = weight;

        public string? Key { get; set; }
    }
}

/// <summary>
/// Upstream calls granted in one second of a limiter's rate window, as persisted (never shared, so not reference-tracked).
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("Floodgate.RateBucket")]
public sealed record RateBucket([property: Id(0)] DateTimeOffset At, [property: Id(1)] int Calls);
