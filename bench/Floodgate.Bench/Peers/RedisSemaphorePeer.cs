using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Floodgate.Bench.Peers;

/// <summary>
/// The distributed-semaphore peer: DistributedLock.Redis's <see cref="RedisDistributedSemaphore"/> on the harness's own
/// redis-server, acquired and released by this process the way a service would guard an upstream with it.
/// </summary>
internal sealed class RedisSemaphorePeer(string connectionString) : IAsyncDisposable
{
    private ConnectionMultiplexer? _redis;

    /// <summary>Acquire + release, <paramref name="callers"/> at once, with as many permits as callers (never waiting).</summary>
    public async Task<Latencies> PermitRoundTripsAsync(int callers, int each, TimeSpan warmUp, CancellationToken cancellationToken = default)
    {
        _redis ??= await ConnectionMultiplexer.ConnectAsync(connectionString);
        var semaphore = new RedisDistributedSemaphore($"bench-semaphore-{callers}", callers, _redis.GetDatabase());
        async Task RoundTripAsync()
        {
            await using var handle = await semaphore.AcquireAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }

        await Latencies.WarmUpAsync(callers, warmUp, RoundTripAsync);
        var latencies = new Latencies();
        await Latencies.Concurrently(callers, each, _ => latencies.TimeAsync(RoundTripAsync));
        return latencies;
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
