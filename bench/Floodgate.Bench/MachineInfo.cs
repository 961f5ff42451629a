using System.Globalization;
using System.Runtime.InteropServices;

namespace Floodgate.Bench;

/// <summary>The machine line of a benchmark section: cores, CPU model, OS, runtime and the load when the run started.</summary>
internal static class MachineInfo
{
    public static string Describe()
    {
        var cpu = ReadLine("/proc/cpuinfo", "model name")?.Split(':', 2)[1].Trim();
        var load = LoadAverage();
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores{(cpu is null ? string.Empty : $" of {cpu}")}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}{(load is null ? string.Empty : $", load average {load} at the start")}");
    }

    /// <summary>The 1-minute load average as a number (Linux), or null where the OS does not tell.</summary>
    public static double? LoadAverageValue() =>
        LoadAverage() is { } load ? double.Parse(load, CultureInfo.InvariantCulture) : null;

    /// <summary>The 1-minute load average (Linux), or null where the OS does not tell.</summary>
    public static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;

    private static string? ReadLine(string path, string prefix) =>
        File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) : null;
}
