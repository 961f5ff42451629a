using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>
/// An item's outcome plus what its processing saw, for the batch's progress and adaptive limit (grain-to-grain protocol:
/// <see cref="IBatchItemEvents.ReportOutcomesAsync"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("Floodgate.ItemReport")]
internal sealed record ItemReport(
    [property: Id(0)] ItemOutcome Outcome,
    [property: Id(1)] int Retries,
    [property: Id(2)] int RateLimitHits,
    [property: Id(3)] int BreakerRejections,
    [property: Id(4)] TimeSpan Duration);
