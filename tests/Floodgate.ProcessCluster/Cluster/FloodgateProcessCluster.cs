using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Floodgate.ProcessCluster.Api;
using Floodgate.ProcessCluster.LeaseHolders;
using Floodgate.ProcessCluster.Placement;
using Floodgate.ProcessCluster.Processes;
using Floodgate.ProcessCluster.Redis;
using Floodgate.ProcessCluster.Silos;
using Floodgate.ProcessCluster.Simulator;

namespace Floodgate.ProcessCluster.Cluster;

/// <summary>
/// A Floodgate deployment made of real processes on loopback: <c>redis-server</c>, N <c>Silo</c> processes joined by
/// Redis clustering (with Redis grain storage and reminders), the simulator as the upstream of the <c>openai-chat</c>
/// processor, and any lease-holder clients. Faults are real signals: <see cref="Kill9"/> (SIGKILL) and
/// <see cref="Terminate"/> (SIGTERM). Disposing kills every process it started.
/// </summary>
public sealed partial class FloodgateProcessCluster : IAsyncDisposable
{
    private readonly ProcessClusterOptions _options;
    private readonly Action<string> _log;
    private readonly List<SiloProcess> _silos = [];
    private readonly List<LeaseHolderProcess> _holders = [];
    private readonly string _adminKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly ConcurrentDictionary<int, TimeSpan> _declaredDead = new();
    private int _siloCount;

    private FloodgateProcessCluster(ProcessClusterOptions options, Action<string> log, RedisProcess redis, SimulatorProcess simulator)
    {
        _options = options;
        _log = log;
        Redis = redis;
        Simulator = simulator;
        ClusterId = $"faults-{Guid.NewGuid():N}"[..20];
    }

    public RedisProcess Redis { get; }

    public SimulatorProcess Simulator { get; }

    /// <summary>Cluster and service id of this deployment (unique per run).</summary>
    public string ClusterId { get; }

    public string LogDirectory => _options.LogDirectory;

    /// <summary>Every silo started, running or not, in start order.</summary>
    public IReadOnlyList<SiloProcess> Silos
    {
        get
        {
            lock (_silos)
            {
                return [.. _silos];
            }
        }
    }

    public IReadOnlyList<SiloProcess> RunningSilos => Silos.Where(s => s.IsRunning).ToList();

    /// <summary>Finds grain activations; connected once the first silos are up.</summary>
    public GrainLocator Locator { get; private set; } = null!;

    /// <summary>
    /// Starts Redis, the simulator and <see cref="ProcessClusterOptions.Silos"/> silos (in parallel) and waits until every
    /// silo is healthy. Whatever started is killed again if start-up fails.
    /// </summary>
    public static async Task<FloodgateProcessCluster> StartAsync(ProcessClusterOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.LogDirectory);
        log ??= _ => { };
        var redis = await RedisProcess.StartAsync(options.LogDirectory, cancellationToken);
        SimulatorProcess? simulator = null;
        FloodgateProcessCluster? cluster = null;
        try
        {
            simulator = await SimulatorProcess.StartAsync(options.LogDirectory, options.Simulator, cancellationToken);
            cluster = new FloodgateProcessCluster(options, log, redis, simulator);
            var started = Timeline.Now;
            await Task.WhenAll(Enumerable.Range(0, options.Silos).Select(_ => cluster.StartSiloAsync(cancellationToken)));
            cluster.Locator = await GrainLocator.ConnectAsync(redis.ConnectionString, cluster.ClusterId, cluster.ClusterId, cancellationToken);
            log($"cluster {cluster.ClusterId}: redis :{redis.Port}, simulator {simulator.BaseUrl}, {options.Silos} silos healthy in {(Timeline.Now - started).TotalSeconds:0.0} s; logs in {options.LogDirectory}");
            return cluster;
        }
        catch
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                if (simulator is not null)
                {
                    await simulator.DisposeAsync();
                }

                await redis.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Starts one more silo (a new name, new ports) and waits until it is healthy.</summary>
    public async Task<SiloProcess> StartSiloAsync(CancellationToken cancellationToken = default)
    {
        var name = $"silo-{Interlocked.Increment(ref _siloCount)}";
        var settings = new Dictionary<string, string>
        {
            ["Floodgate:Silo:Clustering"] = "Redis",
            ["Floodgate:Silo:RedisConnectionString"] = Redis.ConnectionString,
            ["Floodgate:Silo:ClusterId"] = ClusterId,
            ["Floodgate:Silo:ServiceId"] = ClusterId,
            ["Floodgate:Silo:Dashboard"] = "false",
            ["Floodgate:Processors:OpenAiChat:BaseUrl"] = Simulator.BaseUrl.ToString(),

            // Several silos warming up at once on a small machine outlast the start timeout, and faults, not speed, are
            // measured here; a run may turn it on through ProcessClusterOptions.SiloSettings.
            ["Floodgate:Silo:WarmUp:Enabled"] = "false",

            // Start and stop milestones in the log, to tell a slow shutdown from a hung one (the lifecycle's Debug lines
            // name each participant as it starts and stops).
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging:LogLevel:Orleans.Runtime.Silo"] = "Information",
            ["Logging:LogLevel:Orleans.Runtime.SiloLifecycleSubject"] = "Debug",
            ["Logging:LogLevel:Orleans.Runtime.MembershipService"] = "Information",
        };
        foreach (var (key, value) in _options.SiloSettings)
        {
            settings[key] = value;
        }

        var environment = new Dictionary<string, string>(_options.SiloEnvironment) { ["Floodgate:Api:AdminKeys:0"] = _adminKey };
        var silo = SiloProcess.Start(name, LogDirectory, settings, environment);
        silo.Process.WatchLines(OnSiloLine);
        lock (_silos)
        {
            _silos.Add(silo);
        }

        var started = Timeline.Now;
        await silo.WaitReadyAsync(_options.SiloStartTimeout, cancellationToken);
        _log($"{silo} healthy after {(Timeline.Now - started).TotalSeconds:0.0} s");
        return silo;
    }

    /// <summary>The HTTP API of <paramref name="silo"/> (with the cluster's admin key for limit changes).</summary>
    public FloodgateHttpApi Api(SiloProcess silo) => new(silo.BaseUrl, _adminKey);

    /// <summary>The API of the first running silo.</summary>
    public FloodgateHttpApi AnyApi() => Api(RunningSilos.FirstOrDefault() ?? throw new InvalidOperationException("No silo is running."));

    /// <summary>The APIs of the running silos.</summary>
    public IReadOnlyList<FloodgateHttpApi> RunningApis() => RunningSilos.Select(Api).ToList();

    /// <summary>The running silo that hosts the limiter's activation, or null when it is not active (or its host is dead).</summary>
    public async Task<SiloProcess?> FindLimiterHostAsync(string limiter, CancellationToken cancellationToken = default) =>
        BySiloPort(await Locator.FindLimiterAsync(limiter, cancellationToken));

    /// <summary>The running silo that hosts the batch's activation, or null.</summary>
    public async Task<SiloProcess?> FindBatchHostAsync(string batchId, CancellationToken cancellationToken = default) =>
        BySiloPort(await Locator.FindBatchAsync(batchId, cancellationToken));

    /// <summary>
    /// When a surviving silo first logged <paramref name="silo"/> as dead in the membership table (from the silos' own
    /// membership log lines), or null when none did (yet).
    /// </summary>
    public TimeSpan? DeclaredDeadAt(SiloProcess silo) => _declaredDead.TryGetValue(silo.SiloPort, out var at) ? at : null;

    /// <summary>SIGKILL to <paramref name="silo"/>; returns the fault's time.</summary>
    public TimeSpan Kill9(SiloProcess silo)
    {
        var at = Timeline.Now;
        silo.Process.Kill9();
        _log($"t={at.TotalSeconds:0.000}: kill -9 {silo}");
        return at;
    }

    /// <summary>
    /// SIGTERM to <paramref name="silo"/> (a graceful stop); returns the fault's time at once, and a task that completes
    /// with true when the silo exited within <paramref name="exitTimeout"/> (else it was SIGKILLed, and false).
    /// </summary>
    public (TimeSpan At, Task<bool> Exited) Terminate(SiloProcess silo, TimeSpan exitTimeout)
    {
        var at = Timeline.Now;
        var exited = silo.Process.TerminateAsync(exitTimeout);
        _log($"t={at.TotalSeconds:0.000}: kill -TERM {silo}");
        return (at, exited);
    }

    /// <summary>Starts a lease-holder client process talking to the running silos.</summary>
    public LeaseHolderProcess StartLeaseHolder(string limiter, string holder, int leases, TimeSpan ttl)
    {
        var process = LeaseHolderProcess.Start(LogDirectory, limiter, holder, leases, ttl, RunningSilos.Select(s => s.BaseUrl));
        lock (_holders)
        {
            _holders.Add(process);
        }

        return process;
    }

    /// <summary>The last lines of every process's log, for a failure message.</summary>
    public string Tails(int lines = 15) =>
        string.Join("\n", Silos.Select(s => $"--- {s} ({(s.IsRunning ? "running" : "exited")}) {s.Process.LogPath}\n{s.Process.Tail(lines)}"));

    public async ValueTask DisposeAsync()
    {
        if (Locator is not null)
        {
            await Locator.DisposeAsync();
        }

        foreach (var holder in _holders)
        {
            await holder.DisposeAsync();
        }

        await Task.WhenAll(Silos.Select(s => s.DisposeAsync().AsTask()));
        await Simulator.DisposeAsync();
        await Redis.DisposeAsync();
    }

    // Orleans logs membership snapshots as "SiloAddress=S127.0.0.1:{port}:{generation} SiloName=… Status=Dead".
    [GeneratedRegex(@"SiloAddress=S127\.0\.0\.1:(\d+):\d+ SiloName=\S+ Status=Dead")]
    private static partial Regex DeadSilo();

    private void OnSiloLine(string line)
    {
        if (!line.Contains("Status=Dead", StringComparison.Ordinal))
        {
            return;
        }

        var at = Timeline.Now;
        foreach (Match match in DeadSilo().Matches(line))
        {
            _declaredDead.TryAdd(int.Parse(match.Groups[1].Value), at);
        }
    }

    private SiloProcess? BySiloPort(int? port) =>
        port is { } p ? RunningSilos.FirstOrDefault(s => s.SiloPort == p) : null;
}
