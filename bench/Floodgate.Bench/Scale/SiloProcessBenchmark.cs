using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Floodgate.ProcessCluster.Api;
using Floodgate.ProcessCluster.Processes;
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
    /// <summary>A way of running the silo process: its settings (command line), environment, build and what the harness sends first.</summary>
    private sealed record SiloVariant(
        string Key,
        string Description,
        IReadOnlyDictionary<string, string>? Settings = null,
        IReadOnlyDictionary<string, string>? Environment = null,
        bool Published = false,
        int PreBatch = 0,
        int PreRounds = 1);

    public const string SectionHeading = "## Silo process: first batch against warm, and scale";

    private const int Limit = 256;

    /// <summary>The ways of running the silo the first-batch rows compare; <c>--variants</c> picks some by key.</summary>
    private static readonly SiloVariant[] Variants =
    [
        new("cold", "defaults, warm-up off (tiered compilation, tiered PGO, ReadyToRun framework)", Cold),
        new("warm-up", "**defaults: start-up warm-up on**"),
        new("warm-up-prebatch-1000", "start-up warm-up on, then the harness sends 1,000 items", PreBatch: 1000),
        new("warm-up-pgo0", "start-up warm-up on, `DOTNET_TieredPGO=0`", Environment: Env("DOTNET_TieredPGO", "0")),
        new("cold-pgo0", "warm-up off, `DOTNET_TieredPGO=0`", Cold, Env("DOTNET_TieredPGO", "0")),
        new("cold-tc0", "warm-up off, `DOTNET_TieredCompilation=0` (fully optimized JIT at once)", Cold, Env("DOTNET_TieredCompilation", "0")),
        new("cold-r2r0", "warm-up off, `DOTNET_ReadyToRun=0` (framework's precompiled code unused)", Cold, Env("DOTNET_ReadyToRun", "0")),
        new("cold-loops0", "warm-up off, `DOTNET_TC_QuickJitForLoops=0` (methods with loops optimized at once)", Cold, Env("DOTNET_TC_QuickJitForLoops", "0")),
        new("cold-published-r2r", "warm-up off, published with `PublishReadyToRun` (our assemblies and packages precompiled)", Cold, Published: true),
        new("cold-prebatch-5000", "warm-up off, harness sends 5,000 items first", Cold, PreBatch: 5000),
        new("cold-rounds-4x1000", "warm-up off, harness sends 4 batches of 1,000 items, 1 s apart", Cold, PreBatch: 1000, PreRounds: 4),
    ];

    private static Dictionary<string, string> Cold => new() { ["Floodgate:Silo:WarmUp:Enabled"] = "false" };

    private static Dictionary<string, string> Env(string name, string value) => new() { [name] = value };

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (args.Contains("--warm-only") ? string.Empty : Option(args, "--items") ?? "100000,1000000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var warmItems = int.Parse(Option(args, "--warm-items") ?? "20000", CultureInfo.InvariantCulture);
        var repeat = int.Parse(Option(args, "--repeat") ?? "1", CultureInfo.InvariantCulture);
        var bound = TimeSpan.FromMinutes(double.Parse(Option(args, "--bound-minutes") ?? "10", CultureInfo.InvariantCulture));
        var variantKeys = (Option(args, "--variants") ?? "cold,warm-up,cold-pgo0,cold-tc0,cold-r2r0").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var writeTo = Option(args, "--write");
        var machine = MachineInfo.Describe();
        var logDirectory = Path.Combine(Path.GetTempPath(), "floodgate-bench-silo", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

        string? published = null;
        var warmRows = new List<string>();
        foreach (var key in variantKeys)
        {
            var variant = Variants.FirstOrDefault(v => v.Key == key) ?? throw new ArgumentException($"Unknown variant '{key}' (known: {string.Join(", ", Variants.Select(v => v.Key))}).");
            if (variant.Published)
            {
                published ??= await PublishReadyToRunAsync(logDirectory, Log);
            }

            var ratios = new List<double>();
            var firstRates = new List<double>();
            var warmRates = new List<double>();
            for (var round = 0; round < repeat; round++)
            {
                var load = MachineInfo.LoadAverage();
                var startedAt = Stopwatch.GetTimestamp();
                await using var silo = await StartSiloAsync($"warm-{key}-{round + 1}", logDirectory, variant.Settings, variant.Environment, variant.Published ? published : null);
                var ready = Stopwatch.GetElapsedTime(startedAt);
                var readyCpu = CpuTime(silo.Process.Id);
                for (var pre = 0; variant.PreBatch > 0 && pre < variant.PreRounds; pre++)
                {
                    var cpuBefore = CpuTime(silo.Process.Id);
                    var preTime = (await RunBatchAsync(silo, $"pre-{pre}", variant.PreBatch, bound)).Elapsed;
                    Log($"  pre-batch {pre}: {preTime.TotalSeconds:0.00} s, cpu {(CpuTime(silo.Process.Id) - cpuBefore).TotalSeconds:0.00} s");
                    await Task.Delay(1000);
                }

                var times = new List<TimeSpan>();
                var cpu = new List<TimeSpan>();
                for (var run = 0; run < 3; run++)
                {
                    var cpuBefore = CpuTime(silo.Process.Id);
                    times.Add((await RunBatchAsync(silo, $"warm-{run}", warmItems, bound)).Elapsed);
                    cpu.Add(CpuTime(silo.Process.Id) - cpuBefore);
                }

                var first = times[0];
                var warm = times.Skip(1).Min();
                ratios.Add(first / warm);
                firstRates.Add(warmItems / first.TotalSeconds);
                warmRates.Add(warmItems / warm.TotalSeconds);
                Log($"{key} #{round + 1}: ready in {ready.TotalSeconds:0.0} s (cpu {readyCpu.TotalSeconds:0.00} s), batches {string.Join(", ", times.Select(t => $"{t.TotalSeconds:0.00} s"))}, cpu {string.Join(", ", cpu.Select(t => $"{t.TotalSeconds:0.00} s"))}, first/warm {first / warm:0.00} (load {load} -> {MachineInfo.LoadAverage()})");
            }

            warmRows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {variant.Description} | {Median(firstRates):N0}/s | {Median(warmRates):N0}/s | **{Median(ratios):0.00}×**{(repeat > 1 ? $" ({ratios.Min():0.00}–{ratios.Max():0.00})" : string.Empty)} |"));
        }

        var scaleRows = new List<string>();
        foreach (var items in sizes)
        {
            await using var silo = await StartSiloAsync($"scale-{items}", logDirectory, null, null);
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

    private static async Task<SiloProcess> StartSiloAsync(
        string name, string logDirectory, IReadOnlyDictionary<string, string>? settings, IReadOnlyDictionary<string, string>? environment, string? siloDll = null)
    {
        var all = new Dictionary<string, string>
        {
            ["Floodgate:Silo:Clustering"] = "Localhost",
            ["Floodgate:Silo:Dashboard"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Floodgate.Silo.Hosting.WarmUp"] = "Information",
            ["Logging:LogLevel:Floodgate.Grains.WarmUp"] = "Debug",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        // The harness passes its "secrets" as environment variables, which is where DOTNET_* settings must go.
        var silo = SiloProcess.Start(name, logDirectory, all, environment ?? new Dictionary<string, string>(), siloDll);
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

    /// <summary>CPU time the process has used so far, user and system (<c>/proc/{pid}/stat</c>, in clock ticks of 10 ms).</summary>
    private static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Resident memory now and its high-water mark (<c>/proc/{pid}/status</c>), in MiB.</summary>
    private static (double RssMiB, double PeakMiB) Memory(int pid)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/status");
        double Kib(string key) => double.Parse(lines.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (Kib("VmRSS") / 1024, Kib("VmHWM") / 1024);
    }

    /// <summary>Publishes the silo with ReadyToRun code for every assembly into the log directory; the path of its DLL.</summary>
    private static async Task<string> PublishReadyToRunAsync(string logDirectory, Action<string> log)
    {
        var output = Path.Combine(logDirectory, "silo-r2r");
        var project = Path.Combine(Path.GetDirectoryName(Programs.SiloDll)!, "..", "..", "..", "Silo.csproj");
        log($"publishing {Path.GetFullPath(project)} with ReadyToRun to {output}");
        using var publish = Process.Start(new ProcessStartInfo("dotnet", ["publish", Path.GetFullPath(project), "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-p:PublishReadyToRun=true", "-o", output])
        {
            RedirectStandardOutput = true,
        })!;
        var text = await publish.StandardOutput.ReadToEndAsync();
        await publish.WaitForExitAsync();
        return publish.ExitCode == 0 ? Path.Combine(output, "Floodgate.Silo.dll") : throw new InvalidOperationException($"dotnet publish failed:\n{text}");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
