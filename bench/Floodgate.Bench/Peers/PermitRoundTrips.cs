using Floodgate.Client;
using Floodgate.Limiting;

namespace Floodgate.Bench.Peers;

/// <summary>Acquire + release of one permit of a Floodgate limiter through the SDK, with as many permits as callers.</summary>
internal static class PermitRoundTrips
{
    /// <summary>How the round trip releases: <see cref="IFloodgateClient.ReleaseLeaseOneWay"/> or <see cref="IFloodgateClient.ReleaseLeaseAsync"/>.</summary>
    public enum Release
    {
        OneWay,
        Answered,
    }

    /// <summary>One round trip on <paramref name="limiter"/>, set to as many permits as <paramref name="callers"/>.</summary>
    public static async Task<Func<Task>> PrepareAsync(
        IFloodgateClient client, string limiter, Release release, int callers, CancellationToken cancellationToken = default)
    {
        await client.SetLimitsAsync(limiter, new LimiterLimits(callers), cancellationToken);
        var request = new AcquireRequest("bench", 1, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        return async () =>
        {
            var result = await client.TryAcquireLeaseAsync(limiter, request, cancellationToken);
            var leaseId = result.Lease?.LeaseId ?? throw new InvalidOperationException($"No permit of {limiter} ({result.Failure}).");
            if (release == Release.OneWay)
            {
                client.ReleaseLeaseOneWay(limiter, leaseId);
            }
            else
            {
                await client.ReleaseLeaseAsync(limiter, leaseId, cancellationToken);
            }
        };
    }
}
