using System.Diagnostics;
using System.Globalization;

namespace Floodgate.ProcessCluster.Processes;

/// <summary>
/// One monotonic clock for the whole harness: fault times, grants, upstream samples and log lines are all on it, so
/// stalls are differences of numbers from the same clock.
/// </summary>
public static class Timeline
{
    private static readonly long Start = Stopwatch.GetTimestamp();

    /// <summary>Time since the harness loaded.</summary>
    public static TimeSpan Now => Stopwatch.GetElapsedTime(Start);

    /// <summary>Wall-clock time plus timeline time, for log lines.</summary>
    public static string Stamp() =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} t={Now.TotalSeconds:0.000}");
}
