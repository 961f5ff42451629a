using Floodgate.Batches;
using Floodgate.Limiting;

namespace Floodgate.Silo.Demo;

/// <summary>One batch of the demo as it ended, with its first results in input order.</summary>
public sealed record DemoBatch(string Name, BatchProgress Progress, IReadOnlyList<ItemOutcome> Outcomes);

/// <summary>What the demo measured; <see cref="Failures"/> lists every invariant that did not hold.</summary>
public sealed record DemoReport(
    int SimulatorMaxConcurrent,
    long SimulatorRequests,
    long SimulatorRateLimited,
    IReadOnlyList<DemoBatch> Batches,
    LimiterStatus Limiter,
    TimeSpan Elapsed,
    IReadOnlyList<string> Failures)
{
    public bool Passed => Failures.Count == 0;
}
