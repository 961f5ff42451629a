using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Limiting;
using Floodgate.ProcessCluster.Redis;
using Floodgate.Silo.Hosting;
using Floodgate.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Floodgate.Tests.Redis;

/// <summary>Two real silo hosts joined through Redis clustering, with Redis grain storage: the deployment on several hosts.</summary>
public sealed class RedisClusterTests
{
    [SkippableFact]
    public async Task TwoSilosOnRedis_ShareOneLimiterAndRunABatch()
    {
        var unavailable = RedisProcess.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        await using var redis = await RedisProcess.StartAsync(Directory.CreateTempSubdirectory("floodgate-redis-").FullName);
        var clusterId = Unique.Name("redis");
        var first = Silo(redis, clusterId);
        var second = Silo(redis, clusterId);
        await using var _ = first;
        await using var __ = second;
        await first.StartAsync();
        await second.StartAsync();

        var viaFirst = first.Services.GetRequiredService<IFloodgateClient>();
        var viaSecond = second.Services.GetRequiredService<IFloodgateClient>();
        var limiter = Unique.Name("acct");
        await viaFirst.SetLimitsAsync(limiter, new LimiterLimits(3));
        var handle = await viaSecond.SubmitBatchAsync(new BatchSpec
        {
            Items = TestItems.Words(30),
            Processor = "delay",
            ProcessorOptions = new Dictionary<string, string> { ["delayMs"] = "20" },
            Limiter = limiter,
            LocalLimit = 6,
        });
        var final = await viaFirst.GetBatch(handle.Id).WaitForCompletionAsync();

        Assert.Equal(30, final.Succeeded);
        var status = await viaSecond.GetLimiterStatusAsync(limiter);
        Assert.Equal((3, LimitSource.Admin, 3), (status.MaxConcurrency, status.LimitSource, status.HighWaterMark));

        await second.StopAsync();
        await first.StopAsync();
    }

    private static WebApplication Silo(RedisProcess redis, string clusterId) => FloodgateSiloHost.Build([], new Dictionary<string, string?>
    {
        ["Urls"] = "http://127.0.0.1:0",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Floodgate:Silo:Clustering"] = "Redis",
        ["Floodgate:Silo:RedisConnectionString"] = redis.ConnectionString,
        ["Floodgate:Silo:ClusterId"] = clusterId,
        ["Floodgate:Silo:SiloPort"] = FreeTcpPort.Next().ToString(),
        ["Floodgate:Silo:GatewayPort"] = FreeTcpPort.Next().ToString(),
        ["Floodgate:Silo:Dashboard"] = "false",
    });
}
