using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Floodgate.ProcessCluster.Api;
using Floodgate.ProcessCluster.Silos;

namespace Floodgate.Bench.Scale;

/// <summary>
/// The <c>silo</c> scenario, on real <c>Silo</c> processes (Localhost clustering, in-memory storage, started with the
/// process harness of <c>tests/Floodgate.ProcessCluster</c>) fed over the HTTP API:
/// <list type="bullet">
/// <item>first batch against warm ones: a fresh silo runs the same echo batch three times; the first one's time over the
/// best later one, for the runtime's default settings and for JIT variants set through <c>DOTNET_*</c> variables;</item>
/// <item>scale: one echo batch per size on a fresh silo, from submit to completion, and the silo's peak RSS (VmHWM).</item>
/// </list>
/// </summary>
internal static class SiloProcessBenchmark
{
    public const string SectionHeading = "## Silo process: first batch against warm, and scale";

    private const int Limit = 256;

    /// <summary>The runtime settings the first-batch runs compare (environment of the silo process).</summary>
    private static readonly (string Name, Dictionary<string, string> Environment)[] JitVariants =
    [
        ("defaults (tiered compilation, tiered PGO, ReadyToRun framework)", []),
        ("`DOTNET_TieredPGO=0`", new() { ["DOTNET_TieredPGO"] = "0" }),
        ("`DOTNET_TieredCompilation=0` (fully optimized JIT at once)", new() { ["DOTNET_TieredCompilation"] = "0" }),
        ("`DOTNET_ReadyToRun=0` (framework's precompiled code unused)", new() { ["DOTNET_ReadyToRun"] = "0" }),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (Option(args, "--items") ?? "100000,1000000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var warmItems = int.Parse(Option(args, "--warm-items") ?? "20000", CultureInfo.InvariantCulture);
        var bound = TimeSpan.FromMinutes(double.Parse(Option(args, "--bound-minutes") ?? "10", CultureInfo.InvariantCulture));
        var writeTo = Option(args, "--write");
        var machine = MachineInfo.Describe();
        var logDirectory = Path.Combine(Path.GetTempPath(), "floodgate-bench-silo", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

        var warmRows = new List<string>();
        foreach (var (name, environment) in JitVariants)
        {
            await using var silo = await StartSiloAsync($"warm-{warmRows.Count + 1}", logDirectory, environment);
            var times = new List<TimeSpan>();
            for (var run = 0; run < 3; run++)
            {
                times.Add((await RunBatchAsync(silo, $"warm-{run}", warmItems, bound)).Elapsed);
            }

            var first = times[0];
            var warm = times.Skip(1).Min();
            Log($"{name}: {string.Join(", ", times.Select(t => $"{t.TotalSeconds:0.00} s"))}");
            warmRows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {warmItems / first.TotalSeconds:N0}/s | {warmItems / warm.TotalSeconds:N0}/s | **{first / warm:0.00}×** |"));
        }

        var scaleRows = new List<string>();
        foreach (var items in sizes)
        {
            await using var silo = await StartSiloAsync($"scale-{items}", logDirectory, []);
            var idle = Memory(silo.Process.Id);
            var (elapsed, progress) = await RunBatchAsync(silo, "scale", items, bound);
            var peak = Memory(silo.Process.Id);
            var finished = progress.IsFinished;
            Log($"{items} items: {(finished ? string.Empty : "NOT finished, ")}{elapsed.TotalSeconds:0.0} s, {progress.Succeeded} succeeded, peak RSS {peak.PeakMiB:0} MiB (idle {idle.RssMiB:0} MiB)");
            scaleRows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {items:N0} | {(finished ? string.Empty : "> ")}{elapsed.TotalSeconds:0.0} s{(finished ? string.Empty : " (stopped at the bound)")} | {progress.Succeeded / elapsed.TotalSeconds:N0}/s | {peak.PeakMiB:N0} MiB{(finished ? string.Empty : " so far")} | {idle.RssMiB:N0} MiB | {(peak.PeakMiB - idle.RssMiB) * 1024 * 1024 / items:N0} B | {progress.Succeeded:N0} |"));
        }

        var command = $"dotnet run -c Release --project bench/Floodgate.Bench -- silo --items {string.Join(',', sizes)}" +
            (Option(args, "--warm-items") is { } w ? $" --warm-items {w}" : string.Empty) +
            (Option(args, "--bound-minutes") is { } m ? $" --bound-minutes {m}" : string.Empty) + (writeTo is null ? string.Empty : $" --write {writeTo}");
        var section = new StringBuilder()
            .AppendLine(SectionHeading)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Produced by `{command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"on {DateTime.UtcNow:yyyy-MM-dd} ({machine}): a fresh `Silo` process (Release build, Localhost clustering, in-memory")
            .AppendLine(CultureInfo.InvariantCulture, $"storage) per row, batches of `echo` items submitted over its HTTP API with local and global limit {Limit}, timed from")
            .AppendLine("the submit to the first progress answer that shows the batch completed (polled every 50 ms). A batch still running")
            .AppendLine(CultureInfo.InvariantCulture, $"after {bound.TotalMinutes:0} min is left unfinished (the silo is killed): its row shows the items done by then, their rate, and the")
            .AppendLine("peak RSS up to then.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"First batch on a fresh silo against later ones: the same batch of {warmItems:N0} items three times on one silo.")
            .AppendLine()
            .AppendLine("| silo runtime settings | first batch | warm batch (best of 2nd, 3rd) | first ÷ warm time (goal ≤ 1.2×) |")
            .AppendLine("|---|---|---|---|");
        warmRows.ForEach(row => section.AppendLine(row));
        section.AppendLine()
            .AppendLine("Scale: one batch per row on a fresh silo.")
            .AppendLine()
            .AppendLine("| items | wall time | items/s | peak RSS (VmHWM) | RSS before the batch | peak growth per item | succeeded |")
            .AppendLine("|---|---|---|---|---|---|---|");
        scaleRows.ForEach(row => section.AppendLine(row));
        section.AppendLine()
            .AppendLine("- The JIT variants are environment variables of the silo process only; nothing in the Silo project changes. The")
            .AppendLine("  first batch also pays for the grains' first activations, the item pipelines' construction and the lease table's")
            .AppendLine("  first writes, which no JIT setting removes.")
            .AppendLine("- Batch storage today keeps the whole `BatchRecord` (every item and outcome) in one state, rewritten on each")
            .AppendLine("  checkpoint (every 2 s): a checkpoint's cost grows with the batch, the likely (not profiled) reason the item rate falls as it grows;")
            .AppendLine("  chunked storage is being reworked on another branch, so these are the numbers before it. 10,000,000 items exceed")
            .AppendLine("  today's limit of 1,000,000 per batch.")
            .AppendLine("- **Load caveat**: 2 shared cores (load average at the start in the header); the harness's HTTP client shares them.");
        Console.WriteLine();
        Console.WriteLine(section);
        if (writeTo is not null)
        {
            await BenchmarksFile.WriteSectionAsync(writeTo, SectionHeading, section.ToString());
        }

        Console.WriteLine($"process logs: {logDirectory}");
        return 0;
    }

    private static async Task<SiloProcess> StartSiloAsync(string name, string logDirectory, Dictionary<string, string> environment)
    {
        // The harness passes its "secrets" as environment variables, which is where DOTNET_* settings must go.
        var silo = SiloProcess.Start(name, logDirectory, new Dictionary<string, string>
        {
            ["Floodgate:Silo:Clustering"] = "Localhost",
            ["Floodgate:Silo:Dashboard"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        }, environment);
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
        return silo;
    }

    /// <summary>Submits a batch and waits for it, at most <paramref name="bound"/> from the submit; the progress at the end.</summary>
    private static async Task<(TimeSpan Elapsed, BatchSnapshot Progress)> RunBatchAsync(SiloProcess silo, string batchId, int items, TimeSpan bound)
    {
        using var http = new HttpClient { BaseAddress = silo.BaseUrl, Timeout = TimeSpan.FromMinutes(30) };
        var api = new FloodgateHttpApi(silo.BaseUrl);
        var body = new
        {
            batchId,
            items = Enumerable.Range(0, items).Select(i => $"item {i}").ToArray(),
            processor = "echo",
            limiter = $"bench-{batchId}",
            localLimit = Limit,
            globalLimit = Limit,
        };
        var started = Stopwatch.GetTimestamp();
        using (var response = await http.PostAsJsonAsync("api/batches", body))
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Submitting {items} items answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }

        while (true)
        {
            var progress = await api.GetBatchAsync(batchId);
            if (!progress.IsFinished && Stopwatch.GetElapsedTime(started) > bound)
            {
                return (Stopwatch.GetElapsedTime(started), progress);
            }

            if (progress.IsFinished)
            {
                return progress.Succeeded == items
                    ? (Stopwatch.GetElapsedTime(started), progress)
                    : throw new InvalidOperationException($"Batch {batchId}: {progress.Succeeded} of {items} succeeded ({progress.State}).");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Resident memory now and its high-water mark (<c>/proc/{pid}/status</c>), in MiB.</summary>
    private static (double RssMiB, double PeakMiB) Memory(int pid)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/status");
        double Kib(string key) => double.Parse(lines.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (Kib("VmRSS") / 1024, Kib("VmHWM") / 1024);
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
