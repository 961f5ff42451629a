using System.Text.Json;
using Floodgate.ProcessCluster.Api;
using Floodgate.ProcessCluster.Cluster;
using Floodgate.ProcessCluster.Faults;
using Floodgate.ProcessCluster.Measurements;
using Floodgate.ProcessCluster.Processes;
using Floodgate.ProcessCluster.Silos;
using Floodgate.ProcessCluster.Simulator;
using Xunit.Abstractions;

namespace Floodgate.Faults.Tests.Infrastructure;

/// <summary>
/// One fault scenario's deployment and bookkeeping: a 3-silo process cluster, one limiter, one batch on the
/// <c>openai-chat</c> processor against the simulator, a grant probe and an upstream sampler. Writes a timeline to the
/// test output and to <c>scenario.log</c> next to the process logs; goal misses are collected so one run reports every
/// measurement, and the test asserts them at the end.
/// </summary>
internal sealed class FaultRun : IAsyncDisposable
{
    /// <summary>The limiter's global limit: the most requests the simulator may ever see at once.</summary>
    public const int Limit = 5;

    /// <summary>The batch's local limit, above the global one, so the global limiter is what holds the batch back.</summary>
    public const int LocalLimit = 8;

    /// <summary>
    /// The items' attempt timeout: far above the simulator's 100–200 ms, and short, so that the leases of items that die
    /// with a killed silo (which count until their calls must have ended) come back within seconds.
    /// </summary>
    public static readonly TimeSpan ItemAttemptTimeout = TimeSpan.FromSeconds(4);

    /// <summary>
    /// The TTL of an item's lease: the attempt timeout plus the 5 s margin for the start of the call
    /// (<c>ItemProcessingConstants.LeaseMargin</c>). A lease of an item that died lives at most this after its last renewal.
    /// </summary>
    public static readonly TimeSpan ItemLeaseTtl = ItemAttemptTimeout + TimeSpan.FromSeconds(5);

    private readonly ITestOutputHelper _output;
    private readonly StreamWriter _scenarioLog;
    private readonly List<string> _violations = [];
    private GrantProbe? _probe;

    private FaultRun(ITestOutputHelper output, FloodgateProcessCluster cluster, StreamWriter scenarioLog, UpstreamSampler sampler, string limiter)
    {
        _output = output;
        Cluster = cluster;
        _scenarioLog = scenarioLog;
        Sampler = sampler;
        Limiter = limiter;
    }

    public FloodgateProcessCluster Cluster { get; }

    public UpstreamSampler Sampler { get; }

    public string Limiter { get; }

    public IReadOnlyList<string> Violations => _violations;

    public GrantProbe Probe => _probe ?? throw new InvalidOperationException("The probe is not started.");

    public static async Task<FaultRun> StartAsync(
        ITestOutputHelper output, string scenario, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? siloSettings = null)
    {
        var logDirectory = Path.Combine(AppContext.BaseDirectory, "process-logs", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{scenario}");
        Directory.CreateDirectory(logDirectory);
        var scenarioLog = new StreamWriter(Path.Combine(logDirectory, "scenario.log")) { AutoFlush = true };
        FloodgateProcessCluster cluster;
        try
        {
            cluster = await FloodgateProcessCluster.StartAsync(
                new ProcessClusterOptions
                {
                    LogDirectory = logDirectory,
                    Silos = 3,
                    // Unlimited: over-admission shows in the simulator's max-concurrent figure instead of being hidden by 429s.
                    Simulator = new SimulatorSettings(MaxConcurrency: 0, LatencyMs: 100, LatencyJitterMs: 100),
                    SiloSettings = WithHarnessSettings(siloSettings),
                },
                line => Write(scenarioLog, output, line),
                cancellationToken);
        }
        catch
        {
            await scenarioLog.DisposeAsync();
            throw;
        }

        var run = new FaultRun(output, cluster, scenarioLog, new UpstreamSampler(cluster.Simulator), $"faults-{Guid.NewGuid():N}"[..18]);
        try
        {
            var limits = await cluster.AnyApi().SetLimitsAsync(run.Limiter, Limit, cancellationToken);
            run.Log($"limiter {run.Limiter}: max concurrency {limits.MaxConcurrency}");
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    public void Log(string line) => Write(_scenarioLog, _output, line);

    /// <summary>A scenario's silo settings plus the harness's (<see cref="ItemAttemptTimeout"/>) where the scenario sets none.</summary>
    private static Dictionary<string, string> WithHarnessSettings(IReadOnlyDictionary<string, string>? scenario)
    {
        var settings = new Dictionary<string, string>(scenario ?? new Dictionary<string, string>());
        settings.TryAdd("Floodgate:Items:AttemptTimeout", ItemAttemptTimeout.ToString());
        return settings;
    }

    /// <summary>Records a goal miss; the test fails at the end with all of them.</summary>
    public void Expect(bool condition, string violation)
    {
        if (!condition)
        {
            Log($"VIOLATION: {violation}");
            _violations.Add(violation);
        }
    }

    /// <summary>Submits a batch of <paramref name="items"/> prompts under the limiter and waits until it is under way.</summary>
    public async Task<string> SubmitBatchAsync(int items, CancellationToken cancellationToken)
    {
        var batchId = $"faults-batch-{Guid.NewGuid():N}"[..24];
        var submitted = await Cluster.AnyApi().SubmitBatchAsync(
            new
            {
                batchId,
                items = Enumerable.Range(0, items).Select(i => $"prompt {i}").ToArray(),
                processor = "openai-chat",
                limiter = Limiter,
                localLimit = LocalLimit,
            },
            cancellationToken);
        Log($"batch {submitted.BatchId}: {submitted.Total} items, local limit {LocalLimit}, global limit {Limit}");
        await WaitForBatchAsync(batchId, b => b.Done >= 20, TimeSpan.FromSeconds(60), "20 items done", cancellationToken);
        return batchId;
    }

    /// <summary>
    /// Submits a batch of <paramref name="items"/> prompts as an NDJSON stream (so its items go into storage chunk by chunk
    /// as they arrive) and waits until it is under way.
    /// </summary>
    public async Task<string> SubmitStreamedBatchAsync(int items, CancellationToken cancellationToken)
    {
        var batchId = $"faults-stream-{Guid.NewGuid():N}"[..24];
        var submitted = await Cluster.AnyApi().SubmitBatchNdjsonAsync(
            new { batchId, processor = "openai-chat", limiter = Limiter, localLimit = LocalLimit },
            Enumerable.Range(0, items).Select(i => JsonSerializer.Serialize($"prompt {i}")),
            cancellationToken);
        Log($"batch {submitted.BatchId} (NDJSON): {submitted.Total} items, local limit {LocalLimit}, global limit {Limit}");
        await WaitForBatchAsync(batchId, b => b.Done >= 20, TimeSpan.FromSeconds(60), "20 items done", cancellationToken);
        return batchId;
    }

    /// <summary>Starts the grant probe and waits until it has seen a grant.</summary>
    public async Task StartProbeAsync(CancellationToken cancellationToken)
    {
        _probe = new GrantProbe(Limiter, Cluster.RunningApis);
        var deadline = Timeline.Now + TimeSpan.FromSeconds(30);
        while (_probe.Grants.Count < 3)
        {
            if (Timeline.Now > deadline)
            {
                throw new TimeoutException("The grant probe got no grant within 30 s of a healthy cluster.");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    public FaultDrill Drill() => new(Cluster, Probe, Sampler, Log, Limiter);

    /// <summary>What the silo hosts now (limiter and/or batch), for the fault's description.</summary>
    public async Task<string> DescribeHostingAsync(SiloProcess silo, string batchId, CancellationToken cancellationToken)
    {
        var limiterHost = await Cluster.FindLimiterHostAsync(Limiter, cancellationToken);
        var batchHost = await Cluster.FindBatchHostAsync(batchId, cancellationToken);
        var hosts = new List<string>();
        if (limiterHost == silo)
        {
            hosts.Add("limiter");
        }

        if (batchHost == silo)
        {
            hosts.Add("batch");
        }

        return hosts.Count == 0 ? "neither" : string.Join('+', hosts);
    }

    /// <summary>Polls the batch (through any running silo) until <paramref name="condition"/> holds; fails after <paramref name="timeout"/>.</summary>
    public async Task<BatchSnapshot> WaitForBatchAsync(
        string batchId,
        Func<BatchSnapshot, bool> condition,
        TimeSpan timeout,
        string what,
        CancellationToken cancellationToken)
    {
        var deadline = Timeline.Now + timeout;
        BatchSnapshot? last = null;
        string? lastError = null;
        while (Timeline.Now < deadline)
        {
            try
            {
                last = await GetBatchAsync(batchId, cancellationToken);
                if (condition(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is ApiCallException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                lastError = ex.Message;
            }

            await Task.Delay(250, cancellationToken);
        }

        throw new TimeoutException(
            $"Batch {batchId}: not '{what}' within {timeout.TotalSeconds:0} s. Last progress: {Json(last)}; last error: {lastError ?? "none"}.\n{Cluster.Tails()}");
    }

    public async Task<BatchSnapshot> GetBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var api in Cluster.RunningApis())
        {
            try
            {
                return await api.GetBatchAsync(batchId, cancellationToken);
            }
            catch (Exception ex) when (ex is ApiCallException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }
        }

        throw last ?? new InvalidOperationException("No silo is running.");
    }

    /// <summary>
    /// The end-of-run checks every scenario shares: every position has exactly one outcome and none failed, the simulator
    /// never saw more than <see cref="Limit"/> requests at once, and the limiter's permits all come back.
    /// </summary>
    public async Task CheckOutcomeAsync(string batchId, int items, TimeSpan completionTimeout, CancellationToken cancellationToken)
    {
        var final = await WaitForBatchAsync(batchId, b => b.IsFinished, completionTimeout, "finished", cancellationToken);
        Log($"batch finished: {Json(final)}");
        var outcomes = await Cluster.AnyApi().ReadResultsAsync(batchId, TimeSpan.FromSeconds(60), cancellationToken);
        var positions = outcomes.GroupBy(o => o.Position).ToDictionary(g => g.Key, g => g.Count());
        var missing = Enumerable.Range(0, items).Where(p => !positions.ContainsKey(p)).ToList();
        var repeated = positions.Where(p => p.Value > 1).Select(p => p.Key).ToList();
        var failed = outcomes.Where(o => o.Status != "succeeded").ToList();
        Log($"results: {outcomes.Count} lines, {missing.Count} positions missing, {repeated.Count} repeated, {failed.Count} not succeeded");
        Expect(outcomes.Count == items && missing.Count == 0 && repeated.Count == 0,
            $"every position has exactly one outcome: {outcomes.Count} lines for {items} items; missing {Few(missing)}; repeated {Few(repeated)}");
        Expect(failed.Count == 0 && final.Failed == 0,
            $"no item fails because a silo died: {failed.Count} outcomes not succeeded (progress says {final.Failed} failed); " +
            string.Join("; ", failed.Take(5).Select(o => $"#{o.Position} {o.Status} after {o.Attempts} attempts: {o.Error}")));

        var upstream = await Cluster.Simulator.GetStatsAsync(cancellationToken);
        Log($"simulator: {Json(upstream)}; sampler saw at most {Sampler.MaxCurrentSeen} in flight");
        Expect(upstream.MaxConcurrent <= Limit, $"the simulator saw {upstream.MaxConcurrent} requests in flight at once; the limit is {Limit}");
    }

    /// <summary>
    /// Waits until the limiter holds no permit and has no waiter. Leases whose holders died (a killed client, items on a
    /// killed silo) may count until their TTL passes: <paramref name="allExpiredBy"/> is when the last of them must have
    /// expired (<see cref="Timeline"/> time); a goal miss is recorded if permits are still held 15 s after that.
    /// </summary>
    public async Task CheckPermitsReturnAsync(TimeSpan allExpiredBy, CancellationToken cancellationToken)
    {
        if (_probe is not null)
        {
            await _probe.DisposeAsync();
            _probe = null;
        }

        var timeout = (allExpiredBy > Timeline.Now ? allExpiredBy - Timeline.Now : TimeSpan.Zero) + TimeSpan.FromSeconds(15);
        var deadline = Timeline.Now + timeout;
        LimiterSnapshot? last = null;
        string? lastError = null;
        while (Timeline.Now < deadline)
        {
            try
            {
                last = await Cluster.AnyApi().GetLimiterAsync(Limiter, cancellationToken);
                if (last is { InUse: 0, Waiting: 0 })
                {
                    Log($"limiter at rest: {Json(last)}");
                    return;
                }
            }
            catch (Exception ex) when (ex is ApiCallException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                lastError = ex.Message;
            }

            await Task.Delay(250, cancellationToken);
        }

        Expect(false, $"limiter in-use back to 0 within {timeout.TotalSeconds:0} s of the end: last status {Json(last)}; last error {lastError ?? "none"}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_probe is not null)
        {
            await _probe.DisposeAsync();
        }

        await Sampler.DisposeAsync();
        await Cluster.DisposeAsync();
        Log($"all processes stopped; logs in {Cluster.LogDirectory}");
        _scenarioLog.Dispose();
    }

    private static void Write(StreamWriter scenarioLog, ITestOutputHelper output, string line)
    {
        var stamped = $"[{Timeline.Stamp()}] {line}";
        lock (scenarioLog)
        {
            scenarioLog.WriteLine(stamped);
        }

        try
        {
            output.WriteLine(stamped);
        }
        catch (InvalidOperationException)
        {
            // The test already finished (a late line from a background task).
        }
    }

    private static string Json(object? value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    private static string Few(IReadOnlyCollection<int> positions) =>
        positions.Count == 0 ? "none" : string.Join(", ", positions.Take(10)) + (positions.Count > 10 ? $" … ({positions.Count})" : string.Empty);
}
