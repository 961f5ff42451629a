namespace Floodgate.Grains.Batches;

/// <summary>Mean over all items and 95th percentile over the most recent ones, in bounded memory.</summary>
internal sealed class LatencyWindow(int capacity = 1024)
{
    private readonly double[] _recentMs = new double[capacity];
    private int _next;
    private int _filled;
    private double _totalMs;
    private long _count;

    public void Add(TimeSpan latency)
    {
        _recentMs[_next] = latency.TotalMilliseconds;
        _next = (_next + 1) % _recentMs.Length;
        _filled = Math.Min(_filled + 1, _recentMs.Length);
        _totalMs += latency.TotalMilliseconds;
        _count++;
    }

    public TimeSpan Average => _count == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(_totalMs / _count);

    public TimeSpan P95
    {
        get
        {
            if (_filled == 0)
            {
                return TimeSpan.Zero;
            }

            var sorted = _recentMs[.._filled];
            Array.Sort(sorted);
            var index = (int)Math.Ceiling(0.95 * _filled) - 1;
            return TimeSpan.FromMilliseconds(sorted[Math.Clamp(index, 0, _filled - 1)]);
        }
    }
}
