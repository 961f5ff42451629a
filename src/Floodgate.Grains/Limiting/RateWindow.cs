namespace Floodgate.Grains.Limiting;

/// <summary>
/// A requests-per-minute budget as a sliding 60-second window of grant times: no window of 60 seconds ever holds more
/// than <see cref="Budget"/> grants (a token bucket allows up to twice that across a refill boundary).
/// </summary>
internal sealed class RateWindow(TimeProvider time)
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(1);

    private readonly Queue<DateTimeOffset> _grants = new();

    /// <summary>Grants allowed per window; null for no budget.</summary>
    public int? Budget { get; private set; }

    public int? RequestsPerMinute { get; private set; }

    public double SafetyFactor { get; private set; } = 1;

    public void Configure(int? requestsPerMinute, double safetyFactor)
    {
        RequestsPerMinute = requestsPerMinute;
        SafetyFactor = safetyFactor;
        Budget = requestsPerMinute is { } rpm ? Math.Max(1, (int)Math.Floor(rpm * safetyFactor)) : null;
    }

    /// <summary>Grants still allowed in the current window; null without a budget.</summary>
    public int? Available
    {
        get
        {
            if (Budget is not { } budget)
            {
                return null;
            }

            Trim();
            return Math.Max(0, budget - _grants.Count);
        }
    }

    public bool CanGrant => Available is null or > 0;

    /// <summary>When the next grant becomes possible; null when one is possible now.</summary>
    public DateTimeOffset? NextFreeAt => CanGrant ? null : _grants.Peek() + Length;

    public void Record()
    {
        if (Budget is not null)
        {
            _grants.Enqueue(time.GetUtcNow());
        }
    }

    private void Trim()
    {
        var horizon = time.GetUtcNow() - Length;
        while (_grants.Count > 0 && _grants.Peek() <= horizon)
        {
            _grants.Dequeue();
        }
    }
}
