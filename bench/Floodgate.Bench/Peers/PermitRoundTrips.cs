using Floodgate.Client;
using Floodgate.Limiting;

namespace Floodgate.Bench.Peers;

/// <summary>Acquire + release of one permit of a Floodgate limiter through the SDK, with as many permits as callers.</summary>
internal static class PermitRoundTrips
{
    public static async Task<Latencies> MeasureAsync(IFloodgateClient client, string limiter, int callers, int each, CancellationToken cancellationToken = default)
    {
        await client.SetLimitsAsync(limiter, new LimiterLimits(callers), cancellationToken);
        async Task RoundTripAsync()
        {
            var result = await client.TryAcquireLeaseAsync(limiter, new AcquireRequest("bench", 1, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1)), cancellationToken);
            await client.ReleaseLeaseAsync(limiter, result.Lease?.LeaseId ?? throw new InvalidOperationException($"No permit of {limiter} ({result.Failure})."), cancellationToken);
        }

        await Latencies.Concurrently(callers, Math.Max(10, each / 10), _ => RoundTripAsync()); // warm-up
        var latencies = new Latencies();
        await Latencies.Concurrently(callers, each, _ => latencies.TimeAsync(RoundTripAsync));
        return latencies;
    }
}
