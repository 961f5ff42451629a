using System.Collections.Concurrent;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Grains.WarmUp;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Floodgate.Tests.WarmUp;

/// <summary>Records which silo handled each call to a warm-up grain (batch, items, limiter, breaker).</summary>
public sealed class WarmUpCallRecorder(ILocalSiloDetails silo) : IIncomingGrainCallFilter
{
    public static ConcurrentQueue<(SiloAddress Silo, string Grain)> Calls { get; } = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (WarmUpNames.IsWarmUp(context.TargetId.Key.ToString()))
        {
            Calls.Enqueue((silo.SiloAddress, context.TargetId.ToString()));
        }

        return context.Invoke();
    }
}

/// <summary>Two silos, as a running cluster that a silo (the second) has just joined.</summary>
public sealed class TwoSiloFixture() : StoredClusterFixture(silos: 2, chunkSize: 25, silo => silo.AddIncomingGrainCallFilter<WarmUpCallRecorder>());

public sealed class JoiningSiloWarmUpTests(TwoSiloFixture fixture) : IClassFixture<TwoSiloFixture>
{
    [Fact]
    public async Task RunAsync_OnASiloThatJoinedARunningCluster_RunsOnlyThereAndLeavesTheRunningBatchAndItsLimiterAlone()
    {
        var client = new FloodgateClient(fixture.Cluster.Client, Options.Create(new FloodgateClientOptions { WatchInterval = TimeSpan.FromMilliseconds(20) }));
        var limiter = Unique.Name("running");
        var running = await client.SubmitBatchAsync(new BatchSpec
        {
            Items = Enumerable.Range(0, 300).Select(i => JsonSerializer.Serialize($"real {i}")).ToList(),
            Processor = "echo",
            Limiter = limiter,
            LocalLimit = 8,
            GlobalLimit = 8,
        });
        var joined = fixture.Cluster.Silos[1].ServiceProvider;
        var warmUp = new SiloWarmUp(
            joined.GetRequiredService<IGrainFactory>(),
            joined.GetRequiredService<ILocalSiloDetails>(),
            TimeProvider.System,
            NullLogger<SiloWarmUp>.Instance,
            () => 0,
            maxQuietWait: TimeSpan.FromMilliseconds(400));

        var result = await warmUp.RunAsync(new WarmUpPlan(ItemsPerRound: 50, MaxRounds: 2, Concurrency: 8), CancellationToken.None);
        var finished = await running.WaitForCompletionAsync();

        Assert.True(result.Erased);
        var calls = WarmUpCallRecorder.Calls.ToList();
        Assert.Contains(calls, c => c.Grain.Contains("item", StringComparison.OrdinalIgnoreCase));
        Assert.All(calls, c => Assert.Equal(fixture.Cluster.Silos[1].SiloAddress, c.Silo));
        Assert.Equal((300, 0), (finished.Succeeded, finished.Failed));
        var status = await client.GetLimiterStatusAsync(limiter);
        Assert.Equal(0, status.InUse);
        Assert.Equal(300, status.Grants);
        Assert.DoesNotContain(fixture.Store.Keys, k => k.Contains(WarmUpNames.Prefix, StringComparison.Ordinal));
    }
}
