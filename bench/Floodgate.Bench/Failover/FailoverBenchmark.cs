using System.Globalization;
using System.Text;
using Floodgate.ProcessCluster.Cluster;
using Floodgate.ProcessCluster.Faults;
using Floodgate.ProcessCluster.Measurements;
using Floodgate.ProcessCluster.Processes;
using Floodgate.ProcessCluster.Redis;
using Floodgate.ProcessCluster.Silos;
using Floodgate.ProcessCluster.Simulator;

namespace Floodgate.Bench.Failover;

/// <summary>
/// The <c>failover</c> scenario: the grant stall after a fault of the limiter's host, measured on real processes with the
/// same harness as the fault tests (redis-server, 3 Silo processes on Redis clustering, the simulator, a grant probe).
/// A batch keeps the limiter busy throughout. Each fault is repeated <c>--runs</c> times (default 3), a new silo
/// replacing the lost one before the next; the median is reported.
/// </summary>
internal static class FailoverBenchmark
{
    public const string SectionHeading = "## Failover: grant stall after a fault of the limiter's host";

    private const int Limit = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(Option(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        var bound = TimeSpan.FromSeconds(int.Parse(Option(args, "--bound-seconds") ?? "150", CultureInfo.InvariantCulture));
        var writeTo = Option(args, "--write");
        if (RedisProcess.Unavailable() is { } reason)
        {
            Console.Error.WriteLine($"failover: {reason}");
            return 1;
        }

        var logDirectory = Path.Combine(Path.GetTempPath(), "floodgate-bench-failover", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        void Log(string line) => Console.WriteLine($"[{Timeline.Stamp()}] {line}");
        var simulator = new SimulatorSettings(MaxConcurrency: 0, LatencyMs: 100, LatencyJitterMs: 100);
        await using var cluster = await FloodgateProcessCluster.StartAsync(
            new ProcessClusterOptions { LogDirectory = logDirectory, Silos = 3, Simulator = simulator },
            Log);
        var limiter = "bench-failover";
        await cluster.AnyApi().SetLimitsAsync(limiter, Limit);

        await using var sampler = new UpstreamSampler(cluster.Simulator);
        await using var probe = new GrantProbe(limiter, cluster.RunningApis);
        var drill = new FaultDrill(cluster, probe, sampler, Log);
        var load = new BatchLoad(cluster, limiter, Log);

        var kills = new List<FaultReport>();
        var stops = new List<FaultReport>();
        for (var run = 0; run < runs; run++)
        {
            await load.EnsureRunningAsync();
            kills.Add(await drill.KillAsync(await LimiterHostAsync(cluster, limiter), "limiter", bound, CancellationToken.None));
            await ReplaceAsync(cluster);
        }

        for (var run = 0; run < runs; run++)
        {
            await load.EnsureRunningAsync();
            stops.Add(await drill.TerminateAsync(await LimiterHostAsync(cluster, limiter), "limiter", bound, CancellationToken.None));
            await ReplaceAsync(cluster);
        }

        var (done, failed) = await load.TotalsAsync();
        var upstream = await cluster.Simulator.GetStatsAsync();
        var command = $"dotnet run -c Release --project bench/Floodgate.Bench -- failover --runs {runs}" +
            (Option(args, "--bound-seconds") is { } b ? $" --bound-seconds {b}" : string.Empty) +
            (writeTo is null ? string.Empty : $" --write {writeTo}");
        var section = Section(command, runs, bound, kills, stops, upstream.MaxConcurrent, done, failed, load.Batches);
        Console.WriteLine();
        Console.WriteLine(section);
        if (writeTo is not null)
        {
            await BenchmarksFile.WriteSectionAsync(writeTo, SectionHeading, section);
        }

        Console.WriteLine($"process logs: {logDirectory}");
        return 0;
    }

    private static string Section(
        string command,
        int runs,
        TimeSpan bound,
        List<FaultReport> kills,
        List<FaultReport> stops,
        int maxConcurrent,
        int done,
        int failed,
        int batches)
    {
        var text = new StringBuilder()
            .AppendLine(SectionHeading)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Produced by `{command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} cores, .NET {Environment.Version}): redis-server, 3 Silo processes on Redis")
            .AppendLine(CultureInfo.InvariantCulture, $"clustering, the simulator (100–200 ms per request, unlimited) and batches of openai-chat items (local limit 8) under one")
            .AppendLine(CultureInfo.InvariantCulture, $"limiter of {Limit} permits, so every fault hits a limiter with permits held and waiters queued; the silo hosting the")
            .AppendLine(CultureInfo.InvariantCulture, $"limiter is killed, and then stopped, {runs} time(s) each, a new silo replacing it each time.")
            .AppendLine()
            .AppendLine("| fault of the limiter's host | grant stall, median | runs | declared dead after, median | upstream idle, median | goal (invariant 8) |")
            .AppendLine("|---|---|---|---|---|---|");
        text.AppendLine(Row("`kill -9` (SIGKILL)", kills, bound, "failure detection + 2 s"));
        text.AppendLine(Row("`SIGTERM` (graceful stop)", stops, bound, "1 s"));
        text.AppendLine()
            .AppendLine("- *Grant stall*: the longest time without a grant from the fault until the first grant asked for after the silo had")
            .AppendLine("  exited, seen by a probe that acquires one permit (500 ms wait) through the HTTP API of the running silos and")
            .AppendLine(CultureInfo.InvariantCulture, $"  releases it at once. \"> {bound.TotalSeconds:0} s\" means no grant within the measurement's bound.")
            .AppendLine("- *Declared dead*: when a surviving silo logged the lost silo as dead in the membership table (failure detection).")
            .AppendLine("- *Upstream idle*: the longest time the simulator received no request, from the fault until a second after grants resumed")
            .AppendLine("  (at least 5 s).")
            .AppendLine(CultureInfo.InvariantCulture, $"- SIGTERMed silos that did not exit within {FaultDrill.GracefulExitTimeout.TotalSeconds:0} s and were SIGKILLed: {stops.Count(r => !r.CleanExit)} of {stops.Count}.")
            .AppendLine(CultureInfo.InvariantCulture, $"- The simulator saw at most {maxConcurrent} requests in flight at once over the whole run (limit {Limit}).")
            .AppendLine(CultureInfo.InvariantCulture, $"- Items: {done} finished in {batches} batch(es), {failed} of them failed (invariant 8: no item fails because a silo died).")
            .AppendLine("- The process harness is `tests/Floodgate.ProcessCluster`; the fault tests (`tests/Floodgate.Faults.Tests`) assert these goals.");
        return text.ToString();
    }

    private static string Row(string fault, List<FaultReport> reports, TimeSpan bound, string goal) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {fault} | {Seconds(Median(reports.Select(r => r.Stall)), bound)} | {string.Join(", ", reports.Select(r => Seconds(r.Stall, bound)))} | {Seconds(Median(reports.Select(r => r.DeclaredDeadAfter)), bound)} | {Seconds(Median(reports.Select(r => (TimeSpan?)r.UpstreamIdle)), bound)} | {goal} |");

    /// <summary>The median, counting a missing value (no grant within the bound) as the largest.</summary>
    private static TimeSpan? Median(IEnumerable<TimeSpan?> values)
    {
        var sorted = values.OrderBy(v => v ?? TimeSpan.MaxValue).ToList();
        return sorted.Count == 0 ? null : sorted[sorted.Count / 2];
    }

    private static string Seconds(TimeSpan? value, TimeSpan bound) =>
        value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v.TotalSeconds:0.0} s") : string.Create(CultureInfo.InvariantCulture, $"> {bound.TotalSeconds:0} s");

    private static async Task<SiloProcess> LimiterHostAsync(FloodgateProcessCluster cluster, string limiter)
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            if (await cluster.FindLimiterHostAsync(limiter) is { } host)
            {
                return host;
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"No running silo hosts limiter {limiter}.");
    }

    /// <summary>Starts a silo for the lost one, then lets the cluster settle before the next fault.</summary>
    private static async Task ReplaceAsync(FloodgateProcessCluster cluster)
    {
        await cluster.StartSiloAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
