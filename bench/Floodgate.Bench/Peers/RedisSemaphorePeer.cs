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

    /// <summary>
    /// One acquire + release (disposing the handle) of a semaphore with as many permits as <paramref name="callers"/>, so
    /// that many callers at once never wait.
    /// </summary>
    public async Task<Func<Task>> PermitRoundTripAsync(int callers, CancellationToken cancellationToken = default)
    {
        _redis ??= await ConnectionMultiplexer.ConnectAsync(connectionString);
        var semaphore = new RedisDistributedSemaphore($"bench-semaphore-{callers}", callers, _redis.GetDatabase());
        return async () =>
        {
            await using var handle = await semaphore.AcquireAsync(TimeSpan.FromSeconds(30), cancellationToken);
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
