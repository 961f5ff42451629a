using System.Diagnostics;

namespace Floodgate.Bench.Peers;

/// <summary>Timings of many operations (milliseconds), thread-safe to add to, read as percentiles.</summary>
internal sealed class Latencies
{
    private readonly List<double> _values = [];

    public int Count
    {
        get
        {
            lock (_values)
            {
                return _values.Count;
            }
        }
    }

    /// <summary>Runs <paramref name="operation"/> and records how long it took.</summary>
    public async Task TimeAsync(Func<Task> operation)
    {
        var started = Stopwatch.GetTimestamp();
        await operation();
        Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public void Add(double milliseconds)
    {
        lock (_values)
        {
            _values.Add(milliseconds);
        }
    }

    /// <summary>The nearest-rank percentile (0 when nothing was recorded).</summary>
    public double Percentile(int percentile)
    {
        lock (_values)
        {
            if (_values.Count == 0)
            {
                return 0;
            }

            var sorted = _values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
        }
    }

    /// <summary>Runs <paramref name="callers"/> loops of <paramref name="each"/> calls at once.</summary>
    public static Task Concurrently(int callers, int each, Func<int, Task> call) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            await Task.Yield();
            for (var i = 0; i < each; i++)
            {
                await call(caller);
            }
        }));
}
