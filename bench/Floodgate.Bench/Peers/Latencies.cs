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

    /// <summary>
    /// Runs <paramref name="callers"/> loops of calls at once for <paramref name="duration"/>, unmeasured: long enough for
    /// the JIT's tiers (client and server) to reach the code a long-running service runs, so what follows measures that.
    /// </summary>
    public static Task WarmUpAsync(int callers, TimeSpan duration, Func<Task> call)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            await Task.Yield();
            while (Stopwatch.GetTimestamp() < until)
            {
                await call();
            }
        }));
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
