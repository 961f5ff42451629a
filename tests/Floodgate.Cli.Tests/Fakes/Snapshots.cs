using Floodgate.Batches;

namespace Floodgate.Cli.Tests.Fakes;

/// <summary>Builds progress snapshots and limiter statuses with fixed, readable values.</summary>
internal static class Snapshots
{
    public static readonly DateTimeOffset SubmittedAt = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static BatchProgress Progress(
        string batchId,
        long version,
        BatchState state = BatchState.Running,
        int total = 4,
        int succeeded = 0,
        int failed = 0,
        int cancelled = 0,
        int inFlight = 0,
        params string[] warnings)
    {
        var finished = state is BatchState.Completed or BatchState.Cancelled;
        return new BatchProgress
        {
            BatchId = batchId,
            State = state,
            Total = total,
            Pending = total - succeeded - failed - cancelled - inFlight,
            InFlight = inFlight,
            Succeeded = succeeded,
            Failed = failed,
            Cancelled = cancelled,
            LocalLimit = 5,
            EffectiveLocalLimit = 5,
            Retries = 3,
            RateLimitHits = 1,
            BreakerRejections = 0,
            ItemsPerSecond = 2,
            Eta = finished ? null : TimeSpan.FromSeconds(2),
            AverageLatency = TimeSpan.FromMilliseconds(400),
            P95Latency = TimeSpan.FromMilliseconds(1200),
            Limiter = "default",
            Warnings = warnings,
            Version = version,
            SubmittedAt = SubmittedAt,
            FinishedAt = finished ? SubmittedAt.AddSeconds(2) : null,
        };
    }
}
