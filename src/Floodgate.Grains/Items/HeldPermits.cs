using Floodgate.Items;
using Floodgate.Limiting;

namespace Floodgate.Grains.Items;

/// <summary>
/// The leases one attempt holds: one per limiter of its batch, acquired in the batch's fixed global order (so two items
/// can never wait on each other in a cycle), kept alive while held, and all released — also when a later acquire fails.
/// </summary>
internal sealed class HeldPermits : IAsyncDisposable
{
    private readonly List<LimiterLease> _leases;

    private HeldPermits(List<LimiterLease> leases) => _leases = leases;

    public static async Task<HeldPermits> AcquireAsync(
        IGrainFactory grains, ItemWork work, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        var held = new List<LimiterLease>(work.Limiters.Count);
        try
        {
            foreach (var name in work.Limiters)
            {
                var limiter = grains.GetGrain<IGlobalLimiterGrain>(name);
                var left = deadline - time.GetUtcNow();
                var result = await limiter.AcquireAsync(
                    new AcquireRequest(work.BatchId, 1, left > TimeSpan.Zero ? left : TimeSpan.Zero, null, work.Priority),
                    cancellationToken);
                if (result.Lease is not { } lease)
                {
                    throw new PermitUnavailableException(result.Reason ?? $"No permit of '{name}' was granted.");
                }

                held.Add(new LimiterLease(limiter, lease, time));
            }

            return new HeldPermits(held);
        }
        catch
        {
            await ReleaseAllAsync(held);
            throw;
        }
    }

    public ValueTask DisposeAsync() => new(ReleaseAllAsync(_leases));

    private static async Task ReleaseAllAsync(List<LimiterLease> leases)
    {
        for (var i = leases.Count - 1; i >= 0; i--)
        {
            try
            {
                await leases[i].DisposeAsync();
            }
            catch (Exception)
            {
                // A release that cannot reach the limiter is covered by the lease's TTL.
            }
        }

        leases.Clear();
    }
}
