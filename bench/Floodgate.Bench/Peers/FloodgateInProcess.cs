using System.Diagnostics;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Floodgate.Limiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;

namespace Floodgate.Bench.Peers;

/// <summary>
/// Floodgate's side of the batch and wait scenarios: one silo (in-memory storage) in this process, its
/// <c>openai-chat</c> processor pointed at the simulator, used through the test cluster's client and the SDK. Every
/// scenario uses its own limiter name, so the limit it sets is the one in force. (Permit round trips, where the
/// transport is most of the cost, run against a separate process: <see cref="ExternalFloodgate"/>.)
/// </summary>
internal sealed class FloodgateInProcess : IAsyncDisposable
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);
    private readonly InProcessTestCluster _cluster;

    private FloodgateInProcess(InProcessTestCluster cluster)
    {
        _cluster = cluster;
        Client = new FloodgateClient(cluster.Client, Options.Create(new FloodgateClientOptions()));
    }

    public FloodgateClient Client { get; }

    /// <summary>The test cluster's Orleans client, for scenarios that call grains directly.</summary>
    public IClusterClient Grains => _cluster.Client;

    /// <summary>Starts the silo; <paramref name="simulator"/> (if any) is the upstream of its <c>openai-chat</c> processor.</summary>
    public static async Task<FloodgateInProcess> StartAsync(Uri? simulator = null)
    {
        var settings = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" };
        if (simulator is not null)
        {
            settings["Floodgate:Processors:OpenAiChat:BaseUrl"] = simulator.ToString();
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        // As a Silo process logs (appsettings.json): the test cluster's file logger would otherwise write every Debug
        // event, among them two of Polly's per placement of an activation (Orleans places activations under Polly).
        builder.ConfigureSiloHost((_, host) => host.Logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureClientHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new FloodgateInProcess(cluster);
    }

    /// <summary>A batch of <paramref name="items"/> items from submit to completion; throws unless every item succeeded.</summary>
    public async Task<TimeSpan> RunBatchAsync(string limiter, int items, string processor, int limit, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var handle = await Client.SubmitBatchAsync(Spec(limiter, items, processor, limit), cancellationToken: cancellationToken);
        Succeeded(await handle.WaitForCompletionAsync(cancellationToken), items);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Processing only: the limiter's permits are all held by a gate while the batch is submitted and its first items
    /// queue at the limiter; the clock runs from the gate's release to the batch's completion.
    /// </summary>
    public async Task<TimeSpan> RunGatedBatchAsync(string limiter, int items, string processor, int limit, CancellationToken cancellationToken = default)
    {
        await Client.SetLimitsAsync(limiter, new LimiterLimits(limit), cancellationToken);
        var gate = new List<string>();
        for (var i = 0; i < limit; i++)
        {
            var result = await Client.TryAcquireLeaseAsync(limiter, new AcquireRequest("bench-gate", 1, TimeSpan.Zero, LongWait), cancellationToken);
            gate.Add(result.Lease?.LeaseId ?? throw new InvalidOperationException($"The gate of {limiter} got no permit ({result.Failure})."));
        }

        var handle = await Client.SubmitBatchAsync(Spec(limiter, items, processor, limit), cancellationToken: cancellationToken);
        for (var waited = 0; waited < 100 && (await Client.GetLimiterStatusAsync(limiter, cancellationToken)).Waiting < limit; waited++)
        {
            await Task.Delay(50, cancellationToken);
        }

        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(gate.Select(lease => Client.ReleaseLeaseAsync(limiter, lease, cancellationToken)));
        Succeeded(await handle.WaitForCompletionAsync(cancellationToken), items);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Fairness: how long a batch of <paramref name="small"/> items takes alone, and submitted right behind a batch of
    /// <paramref name="large"/> items on the same limiter (both with local limit = <paramref name="limit"/>).
    /// </summary>
    public async Task<(TimeSpan Solo, TimeSpan Behind)> RunSmallBehindLargeAsync(string limiter, int small, int large, int limit, CancellationToken cancellationToken = default)
    {
        var solo = await RunBatchAsync(limiter, small, "openai-chat", limit, cancellationToken);
        var bulk = await Client.SubmitBatchAsync(Spec(limiter, large, "openai-chat", limit), cancellationToken: cancellationToken);
        for (var waited = 0; waited < 200 && (await bulk.GetProgressAsync(cancellationToken)).InFlight < limit; waited++)
        {
            await Task.Delay(10, cancellationToken);
        }

        var behind = await RunBatchAsync(limiter, small, "openai-chat", limit, cancellationToken);
        Succeeded(await bulk.WaitForCompletionAsync(cancellationToken), large);
        return (solo, behind);
    }

    /// <summary>
    /// Acquire-wait tail: <paramref name="callers"/> loops each acquire a permit, hold it for <paramref name="hold"/> and
    /// release it, <paramref name="rounds"/> times, under <paramref name="permits"/> permits; the wait of every acquire.
    /// </summary>
    public async Task<Latencies> AcquireWaitsAsync(string limiter, int callers, int permits, TimeSpan hold, int rounds, CancellationToken cancellationToken = default)
    {
        await Client.SetLimitsAsync(limiter, new LimiterLimits(permits), cancellationToken);
        var waits = new Latencies();
        await Latencies.Concurrently(callers, rounds, async caller =>
        {
            var started = Stopwatch.GetTimestamp();
            var result = await Client.TryAcquireLeaseAsync(limiter, new AcquireRequest($"caller-{caller}", 1, LongWait, LongWait), cancellationToken);
            waits.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            var lease = result.Lease ?? throw new InvalidOperationException($"No permit of {limiter} within {LongWait} ({result.Failure}).");
            await Task.Delay(hold, cancellationToken);
            await Client.ReleaseLeaseAsync(limiter, lease.LeaseId, cancellationToken);
        });
        return waits;
    }

    public async ValueTask DisposeAsync() => await _cluster.DisposeAsync();

    private static BatchSpec Spec(string limiter, int items, string processor, int limit) => new()
    {
        Items = Enumerable.Range(0, items).Select(i => JsonSerializer.Serialize($"item {i}")).ToList(),
        Processor = processor,
        Limiter = limiter,
        LocalLimit = limit,
        GlobalLimit = limit,
        PermitTimeout = LongWait,
    };

    private static void Succeeded(BatchProgress progress, int items)
    {
        if (progress.Succeeded != items)
        {
            throw new InvalidOperationException($"Batch {progress.BatchId}: {progress.Succeeded} of {items} items succeeded ({progress.Failed} failed, state {progress.State}).");
        }
    }
}
