namespace Floodgate.Grains.Limiting;

/// <summary>
/// A requests-per-minute budget as a sliding 60-second window of grants: no window of 60 seconds ever holds more than
/// <see cref="Budget"/> upstream calls (a token bucket allows up to twice that across a refill boundary). A grant of
/// weight w is w upstream calls and takes w of the budget.
/// </summary>
internal sealed class RateWindow(TimeProvider time)
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(1);

    /// <summary>Granularity of the persisted history: grants are rounded up to the end of their second.</summary>
    private static readonly TimeSpan BucketLength = TimeSpan.FromSeconds(1);

    private readonly Queue<(DateTimeOffset At, int Weight)> _grants = new();
    private int _used;

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
            return Math.Max(0, budget - _used);
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
        foreach (var (at, w) in _grants)
        {
            free += w;
            if (free >= weight)
            {
                return at + Length;
            }
        }

        return null;
    }

    public void Record(int weight = 1)
    {
        if (Budget is not null)
        {
            Add(time.GetUtcNow(), weight);
        }
    }

    /// <summary>The window's grants, summed per second and stamped with the end of that second (never earlier than real).</summary>
    public List<RateBucket> Snapshot()
    {
        Trim();
        var buckets = new List<RateBucket>();
        foreach (var (at, weight) in _grants)
        {
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

    private void Add(DateTimeOffset at, int weight)
    {
        _grants.Enqueue((at, weight));
        _used += weight;
    }

    private void Trim()
    {
        var horizon = time.GetUtcNow() - Length;
        while (_grants.Count > 0 && _grants.Peek().At <= horizon)
        {
            _used -= _grants.Dequeue().Weight;
        }
    }
}

/// <summary>Upstream calls granted in one second of a limiter's rate window, as persisted.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.RateBucket")]
public sealed record RateBucket([property: Id(0)] DateTimeOffset At, [property: Id(1)] int Calls);
