using System.Globalization;
using Floodgate.Batches;

namespace Floodgate.Client.Formatting;

/// <summary>One-line descriptions of progress, shared by the CLI and the demo.</summary>
public static class ProgressText
{
    /// <summary>e.g. <c>120/200 done (118 ok, 2 failed, 0 cancelled) · 5 in flight · limit 7/7 · 41.2 items/s · ETA 2s</c>.</summary>
    public static string Describe(BatchProgress p)
    {
        var eta = p.Eta is { } e && !p.IsFinished ? $" · ETA {Format(e)}" : string.Empty;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{p.Done}/{p.Total} done ({p.Succeeded} ok, {p.Failed} failed, {p.Cancelled} cancelled) · {p.InFlight} in flight · limit {p.EffectiveLocalLimit}/{p.LocalLimit} · {p.ItemsPerSecond:0.#} items/s{eta}");
    }

    /// <summary>A short duration: <c>850ms</c>, <c>12.3s</c>, <c>4m05s</c>.</summary>
    public static string Format(TimeSpan t) => t.TotalSeconds switch
    {
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0}ms"),
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.#}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}m{t.Seconds:00}s"),
    };
}
