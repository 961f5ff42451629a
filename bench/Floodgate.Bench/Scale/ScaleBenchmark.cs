using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Floodgate.Grains.Items;
using Floodgate.ProcessCluster.Cluster;
using Floodgate.ProcessCluster.Processes;
using Floodgate.ProcessCluster.Redis;
using Floodgate.ProcessCluster.Silos;

namespace Floodgate.Bench.Scale;

/// <summary>
/// The <c>scale</c> scenario: one real Silo process on redis-server runs echo batches streamed in over HTTP as NDJSON;
/// measured are the wall time (first byte of the submission → the batch finished) and the silo's resident memory
/// (<c>/proc/{pid}/status</c>: VmHWM for the peak, VmRSS now). Each size runs on a fresh silo, so peaks do not mix. Then
/// one silo runs <c>--repeat</c> batches in a row and its resident memory is read after each (flat memory: finished
/// batches leave memory). The baseline is the same silo at rest before its first batch.
/// </summary>
internal static class ScaleBenchmark
{
    public const string SectionHeading = "## Scale: wall time and silo memory by batch size";

    private const int Limit = 256;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (Option(args, "--items") ?? "100000,1000000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var repeat = int.Parse(Option(args, "--repeat") ?? "20", CultureInfo.InvariantCulture);
        var repeatItems = int.Parse(Option(args, "--repeat-items") ?? "100000", CultureInfo.InvariantCulture);
        var writeTo = Option(args, "--write");

        // The silo runs with ASP.NET Core's default server GC; "--gc workstation" runs it with the workstation GC instead.
        var gc = Option(args, "--gc") ?? "server";

        // --set Floodgate:Batches:IdleTimeout=00:00:05 (repeatable): silo settings to try.
        var settings = args.Select((a, i) => (a, i)).Where(x => x.a == "--set" && x.i + 1 < args.Length)
            .Select(x => args[x.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        if (RedisProcess.Unavailable() is { } reason)
        {
            Console.Error.WriteLine($"scale: {reason}");
            return 1;
        }

        void Log(string line) => Console.WriteLine($"[{Timeline.Stamp()}] {line}");
        var runs = new List<SizeRun>();
        foreach (var size in sizes)
        {
            await using var cluster = await StartAsync(gc, settings, Log);
            var silo = cluster.RunningSilos[0];
            var idle = Memory.Read(silo);
            var run = await RunBatchAsync(cluster, silo, size, Log);
            runs.Add(new SizeRun(size, run.Elapsed, idle.Rss, Memory.Read(silo).Peak, run.Done, run.Failed));
            Log($"{size:N0} items: {run.Elapsed.TotalSeconds:0.0} s, {size / run.Elapsed.TotalSeconds:N0} items/s, peak RSS {Mib(runs[^1].PeakRss)} (idle {Mib(idle.Rss)})");
        }

        var series = new List<long>();
        long seriesIdle = 0;
        if (repeat > 0)
        {
            await using var cluster = await StartAsync(gc, settings, Log);
            var silo = cluster.RunningSilos[0];
            seriesIdle = Memory.Read(silo).Rss;
            for (var i = 0; i < repeat; i++)
            {
                await RunBatchAsync(cluster, silo, repeatItems, Log);
                series.Add(Memory.Read(silo).Rss);
                var activations = await cluster.Locator.CountActivationsAsync();
                Log($"batch {i + 1}/{repeat} of {repeatItems:N0}: RSS {Mib(series[^1])}; activations {string.Join(", ", activations.OrderByDescending(a => a.Value).Take(4).Select(a => $"{a.Key} {a.Value:N0}"))}");
            }
        }

        var command = $"dotnet run -c Release --project bench/Floodgate.Bench -- scale --items {string.Join(',', sizes)} --repeat {repeat} --repeat-items {repeatItems} --gc {gc}"
            + string.Concat(settings.Select(kv => $" --set {kv.Key}={kv.Value}"))
            + (writeTo is null ? string.Empty : $" --write {writeTo}");
        var section = Section(command, gc, runs, repeatItems, seriesIdle, series);
        Console.WriteLine();
        Console.WriteLine(section);
        if (writeTo is not null)
        {
            await BenchmarksFile.WriteSectionAsync(writeTo, SectionHeading, section);
        }

        return 0;
    }

    private static async Task<FloodgateProcessCluster> StartAsync(string gc, IReadOnlyDictionary<string, string> settings, Action<string> log)
    {
        var logDirectory = Path.Combine(Path.GetTempPath(), "floodgate-bench-scale", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture));
        var cluster = await FloodgateProcessCluster.StartAsync(
            new ProcessClusterOptions
            {
                LogDirectory = logDirectory,
                Silos = 1,
                SiloSettings = new Dictionary<string, string>(settings)
                {
                    // The default logging writes a line per batch; keep the silo's own output quiet under load.
                    ["Logging:LogLevel:Default"] = "Warning",
                    ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
                },
                SiloEnvironment = gc == "workstation" ? new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" } : new Dictionary<string, string>(),
            },
            log);
        await cluster.AnyApi().SetLimitsAsync("bench-scale", Limit);
        return cluster;
    }

    /// <summary>Streams one echo batch in and waits until it finished; returns the wall time and its counts.</summary>
    private static async Task<(TimeSpan Elapsed, int Done, int Failed)> RunBatchAsync(FloodgateProcessCluster cluster, SiloProcess silo, int items, Action<string> log)
    {
        var api = cluster.Api(silo);
        var batchId = $"scale-{Guid.NewGuid():N}"[..22];
        var watch = Stopwatch.StartNew();
        var submitted = await api.SubmitBatchNdjsonAsync(
            new { batchId, processor = "echo", limiter = "bench-scale", localLimit = Limit },
            Enumerable.Range(0, items).Select(i => JsonSerializer.Serialize($"item-{i}")),
            CancellationToken.None,
            timeout: TimeSpan.FromHours(2));
        log($"{batchId}: {submitted.Total:N0} items submitted after {watch.Elapsed.TotalSeconds:0.0} s ({submitted.Done:N0} done by then)");
        var lastLog = TimeSpan.Zero;
        while (true)
        {
            var progress = await api.GetBatchAsync(batchId);
            if (progress.IsFinished)
            {
                return (watch.Elapsed, progress.Done, progress.Failed);
            }

            if (watch.Elapsed - lastLog > TimeSpan.FromSeconds(30))
            {
                lastLog = watch.Elapsed;
                log($"{batchId}: {progress.Done:N0}/{progress.Total:N0} after {watch.Elapsed.TotalSeconds:0} s; RSS {Mib(Memory.Read(silo).Rss)}");
            }

            await Task.Delay(250);
        }
    }

    private static string Section(string command, string gc, IReadOnlyList<SizeRun> runs, int repeatItems, long seriesIdle, IReadOnlyList<long> series)
    {
        var text = new StringBuilder()
            .AppendLine(SectionHeading)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Produced by `{command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} cores, .NET {Environment.Version}): one Silo process on")
            .AppendLine(CultureInfo.InvariantCulture, $"redis-server (Redis grain storage, {gc} GC), echo items streamed in as NDJSON from this process, local and global limit 256.")
            .AppendLine("Each size runs on a fresh silo. Memory is the silo's resident set from `/proc/{pid}/status`; the baseline is the same")
            .AppendLine("silo at rest before its batch.")
            .AppendLine()
            .AppendLine("| items | wall time | items/s | peak RSS | idle RSS (baseline) | peak / idle | outcomes |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var run in runs)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {run.Items:N0} | {run.Elapsed.TotalSeconds:0.0} s | {run.Items / run.Elapsed.TotalSeconds:N0} | {Mib(run.PeakRss)} | {Mib(run.IdleRss)} | {(double)run.PeakRss / run.IdleRss:0.00}× | {run.Done:N0} done, {run.Failed} failed |");
        }

        if (series.Count > 0)
        {
            text.AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"{series.Count} batches of {repeatItems:N0} items in a row on one silo, resident memory after each (idle before the first: {Mib(seriesIdle)}):")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"{string.Join(", ", series.Select(Mib))}")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"- after the first: {Mib(series[0])}; after the last: {Mib(series[^1])} ({(double)series[^1] / series[0]:0.00}× the first); highest: {Mib(series.Max())}.");
        }

        text.AppendLine("- Wall time runs from the first byte of the submission to the batch's durable finish (dispatch starts while items still arrive).")
            .AppendLine(CultureInfo.InvariantCulture, $"- A batch's items run in {ItemLanes.Count} item-lane activations, so neither activations nor the grain directory grow with the batch's size.");
        return text.ToString();
    }

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0} MiB");

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private sealed record SizeRun(int Items, TimeSpan Elapsed, long IdleRss, long PeakRss, int Done, int Failed);

    /// <summary>A process's resident memory from <c>/proc/{pid}/status</c>.</summary>
    private static class Memory
    {
        public static (long Rss, long Peak) Read(SiloProcess silo)
        {
            var lines = File.ReadAllLines($"/proc/{silo.Process.Id}/status");
            return (Kib(lines, "VmRSS:") * 1024, Kib(lines, "VmHWM:") * 1024);

            static long Kib(string[] lines, string key) =>
                long.Parse(lines.First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
    }
}
