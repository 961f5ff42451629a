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
    /// Times <paramref name="operations"/> side by side: each is first run unmeasured for <paramref name="warmUp"/> (long
    /// enough for the JIT's tiers, in client and server, to reach the code a long-running service runs), then all are
    /// measured in <paramref name="turns"/> turns, <paramref name="callers"/> loops at once, so a change of the machine's
    /// load during the measurement falls on every operation alike. Returns one <see cref="Latencies"/> per operation,
    /// of <paramref name="each"/> calls per caller.
    /// </summary>
    public static async Task<Latencies[]> InterleavedAsync(int callers, int each, int turns, TimeSpan warmUp, params Func<Task>[] operations)
    {
        foreach (var operation in operations)
        {
            var until = Stopwatch.GetTimestamp() + (long)(warmUp.TotalSeconds * Stopwatch.Frequency);
            await Concurrently(callers, int.MaxValue, until, _ => operation());
        }

        var latencies = operations.Select(_ => new Latencies()).ToArray();
        for (var turn = 0; turn < turns; turn++)
        {
            var calls = each / turns + (turn < each % turns ? 1 : 0);
            for (var i = 0; i < operations.Length; i++)
            {
                var (operation, measured) = (operations[i], latencies[i]);
                await Concurrently(callers, calls, _ => measured.TimeAsync(operation));
            }
        }

        return latencies;
    }

    /// <summary>Runs <paramref name="callers"/> loops of <paramref name="each"/> calls at once.</summary>
    public static Task Concurrently(int callers, int each, Func<int, Task> call) => Concurrently(callers, each, long.MaxValue, call);

    /// <summary>Runs <paramref name="callers"/> loops of <paramref name="each"/> calls at once, each loop ending early at <paramref name="until"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    private static Task Concurrently(int callers, int each, long until, Func<int, Task> call) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            await Task.Yield();
            for (var i = 0; i < each && Stopwatch.GetTimestamp() < until; i++)
            {
                await call(caller);
            }
        }));
}
