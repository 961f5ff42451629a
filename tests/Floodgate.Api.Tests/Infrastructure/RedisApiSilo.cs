using Floodgate.ProcessCluster.Redis;
using Floodgate.Silo.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Floodgate.Api.Tests.Infrastructure;

/// <summary>
/// One real silo web host clustered on a throw-away redis-server of its own, started inside a single test (for tests that
/// break or search that Redis). Where redis-server is missing the test is skipped, or fails in CI.
/// </summary>
public sealed class RedisApiSilo : IAsyncDisposable
{
    private readonly RedisProcess _redis;
    private readonly WebApplication _app;

    private RedisApiSilo(RedisProcess redis, WebApplication app)
    {
        _redis = redis;
        _app = app;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    /// <summary>The silo's Redis (membership, storage and reminders), for tests that pause or search it.</summary>
    public string RedisConnectionString => _redis.ConnectionString;

    /// <summary>Starts redis-server, then the silo on it with the test silo settings plus <paramref name="settings"/>.</summary>
    /// <param name="name">Names the temporary folder of redis-server's log.</param>
    public static async Task<RedisApiSilo> StartAsync(string name, params KeyValuePair<string, string?>[] settings)
    {
        var unavailable = RedisProcess.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        var redis = await RedisProcess.StartAsync(Directory.CreateTempSubdirectory($"floodgate-{name}-").FullName);
        WebApplication? app = null;
        try
        {
            app = FloodgateSiloHost.Build([], ApiSilo.SiloSettings(
            [
                new("Floodgate:Silo:Clustering", "Redis"),
                new("Floodgate:Silo:RedisConnectionString", redis.ConnectionString),
                .. settings,
            ]));
            await app.StartAsync();
            return new RedisApiSilo(redis, app);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the silo gracefully (it leaves the cluster); the end of a test that passed.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
