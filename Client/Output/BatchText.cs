using System.Globalization;
using Floodgate.Batches;
using Floodgate.Client.Formatting;

namespace Floodgate.Cli.Output;

/// <summary>Text forms of a batch's progress: the status block, the one-line progress and the final summary.</summary>
internal static class BatchText
{
    /// <summary>The lower-case state name: running, completed, cancelling, cancelled.</summary>
    public static string StateName(BatchState state) => state.ToString().ToLowerInvariant();

    /// <summary>One line: id, state and <see cref="ProgressText.Describe"/>.</summary>
    public static string ProgressLine(BatchProgress progress) =>
        $"{progress.BatchId} {StateName(progress.State)}: {ProgressText.Describe(progress)}";

    /// <summary>The <c>status</c> block: one labelled fact per line, warnings last.</summary>
    public static void WriteStatus(TextWriter writer, BatchProgress p)
    {
        WriteFact(writer, "batch", p.BatchId);
        WriteFact(writer, "state", StateName(p.State));
        WriteFact(writer, "progress", ProgressText.Describe(p));
        WriteFact(writer, "limiter", p.Limiter);
        WriteFact(writer, "counters", Counters(p));
        WriteFact(writer, "latency", Latency(p));
        WriteFact(writer, "submitted", Timestamp(p.SubmittedAt));
        if (p.FinishedAt is { } finished)
        {
            WriteFact(writer, "finished", $"{Timestamp(finished)} (took {ProgressText.Format(finished - p.SubmittedAt)})");
        }

        foreach (var warning in p.Warnings)
        {
            WriteFact(writer, "warning", warning);
        }
    }

    /// <summary>The summary printed when a watched batch finishes.</summary>
    public static void WriteSummary(TextWriter writer, BatchProgress p)
    {
        var took = p.FinishedAt is { } finished ? $" in {ProgressText.Format(finished - p.SubmittedAt)}" : string.Empty;
        writer.WriteLine(
            $"{p.BatchId} {StateName(p.State)}{took}: {p.Succeeded} succeeded, {p.Failed} failed, {p.Cancelled} cancelled (of {p.Total})");
        writer.WriteLine($"{Counters(p)} · latency {Latency(p)}");
    }

    private static string Counters(BatchProgress p) =>
        $"retries {p.Retries} · rate-limit hits {p.RateLimitHits} · breaker rejections {p.BreakerRejections}";

    private static string Latency(BatchProgress p) =>
        $"avg {ProgressText.Format(p.AverageLatency)} · p95 {ProgressText.Format(p.P95Latency)}";

    private static string Timestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void WriteFact(TextWriter writer, string label, string value) => writer.WriteLine($"{label,-10} {value}");
}
