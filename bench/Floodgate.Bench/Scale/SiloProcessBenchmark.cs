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
/// <item>first batch against warm ones: a fresh silo, once ready (<c>/health</c>, which waits for the start-up warm-up),
/// runs the same echo batch three times; the first one's time (and the silo's CPU time) over the best later one, with and
/// without the start-up warm-up and for JIT variants set through <c>DOTNET_*</c> variables or a ReadyToRun publish;</item>
/// <item>scale: one echo batch per size on a fresh silo, from submit to completion, and the silo's peak RSS (VmHWM).</item>
/// </list>
/// On a shared machine each first-batch row runs <c>--repeat</c> times (3) on fresh silos and reports the median and the
/// spread; the silo's CPU time per batch, read from <c>/proc</c>, is far less disturbed by other work than wall time.
/// </summary>
internal static class SiloProcessBenchmark
{
    public const string SectionHeading = "## Silo process: first batch against warm, and scale";

    private const int Limit = 256;

    /// <summary>The ways of running the silo the first-batch rows compare, in table order; <c>--variants</c> picks some by key.</summary>
    private static readonly SiloVariant[] Variants =
    [
        new("cold", "start-up warm-up off (the runtime's defaults: tiered compilation, tiered PGO, ReadyToRun framework)", WarmUpOff),
        new("warm-up", "**defaults: start-up warm-up on**"),
        new("cold-pgo0", "warm-up off, `DOTNET_TieredPGO=0`", WarmUpOff, Env("DOTNET_TieredPGO", "0")),
        new("warm-up-pgo0", "warm-up on, `DOTNET_TieredPGO=0`", Environment: Env("DOTNET_TieredPGO", "0")),
        new("cold-tc0", "warm-up off, `DOTNET_TieredCompilation=0` (fully optimized JIT at once)", WarmUpOff, Env("DOTNET_TieredCompilation", "0")),
        new("cold-loops0", "warm-up off, `DOTNET_TC_QuickJitForLoops=0` (methods with loops optimized at once)", WarmUpOff, Env("DOTNET_TC_QuickJitForLoops", "0")),
        new("cold-r2r", "warm-up off, published with `PublishReadyToRun` (our assemblies and packages precompiled too)", WarmUpOff, Published: true),
    ];

    private static Dictionary<string, string> WarmUpOff => new() { ["Floodgate:Silo:WarmUp:Enabled"] = "false" };

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (args.Contains("--warm-only") ? string.Empty : Option(args, "--items") ?? "100000,1000000")
            .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var warmItems = int.Parse(Option(args, "--warm-items") ?? "20000", CultureInfo.InvariantCulture);
        var repeat = int.Parse(Option(args, "--repeat") ?? "3", CultureInfo.InvariantCulture);
        var bound = TimeSpan.FromMinutes(double.Parse(Option(args, "--bound-minutes") ?? "10", CultureInfo.InvariantCulture));
        var variants = (Option(args, "--variants")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? Variants.Select(v => v.Key))
            .Select(key => Variants.FirstOrDefault(v => v.Key == key) ?? throw new ArgumentException($"Unknown variant '{key}' (known: {string.Join(", ", Variants.Select(v => v.Key))})."))
            .ToList();
        var writeTo = Option(args, "--write");
        var machine = MachineInfo.Describe();
        var logDirectory = Path.Combine(Path.GetTempPath(), "floodgate-bench-silo", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

        string? published = null;
        var loads = new List<double>();
        var warmRows = new List<string>();
        foreach (var variant in variants)
        {
            if (variant.Published)
            {
                published ??= await PublishReadyToRunAsync(logDirectory, Log);
            }

            var runs = new List<FirstBatchRun>();
            for (var round = 0; round < repeat; round++)
            {
                loads.Add(MachineInfo.LoadAverageValue() ?? 0);
                var run = await RunFirstAndWarmAsync(variant, $"{variant.Key}-{round + 1}", logDirectory, variant.Published ? published : null, warmItems, bound);
                runs.Add(run);
                Log(string.Create(CultureInfo.InvariantCulture,
                    $"{variant.Key} #{round + 1}: ready in {run.Ready.TotalSeconds:0.0} s (silo CPU {run.ReadyCpu.TotalSeconds:0.0} s); batches {string.Join(", ", run.Times.Select(t => $"{t.TotalSeconds:0.00}"))} s, CPU {string.Join(", ", run.Cpu.Select(t => $"{t.TotalSeconds:0.00}"))} s; first ÷ warm {run.TimeRatio:0.00} (CPU {run.CpuRatio:0.00}); load {MachineInfo.LoadAverage()}"));
            }

            warmRows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {variant.Description} | {Median(runs, r => r.Ready.TotalSeconds):0.0} s ({Median(runs, r => r.ReadyCpu.TotalSeconds):0.0} s) | {Median(runs, r => warmItems / r.First.TotalSeconds):N0}/s | {Median(runs, r => warmItems / r.Warm.TotalSeconds):N0}/s | {Median(runs, r => r.WarmCpu.TotalSeconds):0.00} s | **{Median(runs, r => r.TimeRatio):0.00}×**{Spread(runs, r => r.TimeRatio)} | {Median(runs, r => r.CpuRatio):0.00}×{Spread(runs, r => r.CpuRatio)} |"));
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

        var command = "dotnet run -c Release --project bench/Floodgate.Bench -- silo" +
            (sizes.Length == 0 ? " --warm-only" : $" --items {string.Join(',', sizes)}") +
            (Option(args, "--warm-items") is { } w ? $" --warm-items {w}" : string.Empty) +
            (Option(args, "--repeat") is { } r ? $" --repeat {r}" : string.Empty) +
            (Option(args, "--variants") is { } v ? $" --variants {v}" : string.Empty) +
            (Option(args, "--bound-minutes") is { } m ? $" --bound-minutes {m}" : string.Empty) + (writeTo is null ? string.Empty : $" --write {writeTo}");
        var section = new StringBuilder()
            .AppendLine(SectionHeading)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Produced by `{command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"on {DateTime.UtcNow:yyyy-MM-dd} ({machine}; {loads.Min():0.0}–{loads.Max():0.0} before the first-batch runs): a fresh `Silo`")
            .AppendLine(CultureInfo.InvariantCulture, $"process (Release build, Localhost clustering, in-memory storage) per run, batches of `echo` items submitted over its HTTP API")
            .AppendLine(CultureInfo.InvariantCulture, $"with local and global limit {Limit}, timed from the submit to the first progress answer that shows the batch completed")
            .AppendLine(CultureInfo.InvariantCulture, $"(polled every 50 ms). A batch still running after {bound.TotalMinutes:0} min is left unfinished (the silo is killed): its row shows")
            .AppendLine("the items done by then, their rate, and the peak RSS up to then.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"First batch on a fresh silo against later ones: once the silo is ready (`/health` answers 200, which waits for the")
            .AppendLine(CultureInfo.InvariantCulture, $"start-up warm-up), the same batch of {warmItems:N0} items three times. Each row is the median of {repeat} runs on fresh silos, the")
            .AppendLine("spread of its ratios in brackets. Silo CPU is the process's user + system time (`/proc/{pid}/stat`) during the batch:")
            .AppendLine("other work on the shared cores stretches wall time far more than it changes that.")
            .AppendLine()
            .AppendLine("| silo | ready after (silo CPU by then) | first batch | warm batch (best of 2nd, 3rd) | silo CPU per warm batch | first ÷ warm time (goal ≤ 1.2×) | first ÷ warm silo CPU |")
            .AppendLine("|---|---|---|---|---|---|---|");
        warmRows.ForEach(row => section.AppendLine(row));
        section.AppendLine()
            .AppendLine("Scale: one batch per row on a fresh silo (warmed up, as every silo now is by default).")
            .AppendLine()
            .AppendLine("| items | wall time | items/s | peak RSS (VmHWM) | RSS before the batch | peak growth per item | succeeded |")
            .AppendLine("|---|---|---|---|---|---|---|");
        scaleRows.ForEach(row => section.AppendLine(row));
        section.AppendLine()
            .AppendLine("- The start-up warm-up (`Silo:WarmUp:*`, README \"Start-up warm-up\") runs rounds of 1,000 echo items through the")
            .AppendLine("  grains and the silo's own HTTP API until a round leaves the JIT little new to compile; *ready after* includes it.")
            .AppendLine("  The JIT variants are environment variables of the silo process only; the ReadyToRun row runs a")
            .AppendLine("  `dotnet publish -r linux-x64 -p:PublishReadyToRun=true` of the same project.")
            .AppendLine("- Without the warm-up a silo is not fully warm after two batches either: its third batch still costs more CPU than")
            .AppendLine("  a warmed-up silo's, so the cold rows' ratios understate the cold start.")
            .AppendLine("- **Load caveat**: 2 shared cores (load averages in the header); the harness's HTTP client shares them.");
        Console.WriteLine();
        Console.WriteLine(section);
        if (writeTo is not null)
        {
            await BenchmarksFile.WriteSectionAsync(writeTo, SectionHeading, section.ToString());
        }

        Console.WriteLine($"process logs: {logDirectory}");
        return 0;
    }

    /// <summary>A fresh silo of <paramref name="variant"/>: how long until ready, then three batches of <paramref name="items"/>.</summary>
    private static async Task<FirstBatchRun> RunFirstAndWarmAsync(SiloVariant variant, string name, string logDirectory, string? siloDll, int items, TimeSpan bound)
    {
        var started = Stopwatch.GetTimestamp();
        await using var silo = await StartSiloAsync(name, logDirectory, variant.Settings, variant.Environment, siloDll);
        var ready = Stopwatch.GetElapsedTime(started);
        var readyCpu = CpuTime(silo.Process.Id);
        var times = new List<TimeSpan>();
        var cpu = new List<TimeSpan>();
        for (var run = 0; run < 3; run++)
        {
            var cpuBefore = CpuTime(silo.Process.Id);
            times.Add((await RunBatchAsync(silo, $"batch-{run}", items, bound)).Elapsed);
            cpu.Add(CpuTime(silo.Process.Id) - cpuBefore);
        }

        return new FirstBatchRun(ready, readyCpu, times, cpu);
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

    private static double Median(IReadOnlyList<FirstBatchRun> runs, Func<FirstBatchRun, double> figure)
    {
        var sorted = runs.Select(figure).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>" (min–max)" of a figure over several runs; nothing for one run.</summary>
    private static string Spread(IReadOnlyList<FirstBatchRun> runs, Func<FirstBatchRun, double> figure) =>
        runs.Count < 2 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" ({runs.Min(figure):0.00}–{runs.Max(figure):0.00})");

    private static Dictionary<string, string> Env(string name, string value) => new() { [name] = value };

    /// <summary>A way of running the silo process: settings (command line), environment, and whether it runs a ReadyToRun publish.</summary>
    private sealed record SiloVariant(
        string Key,
        string Description,
        IReadOnlyDictionary<string, string>? Settings = null,
        IReadOnlyDictionary<string, string>? Environment = null,
        bool Published = false);

    /// <summary>One fresh silo: time (and silo CPU) until ready, then three batches.</summary>
    private sealed record FirstBatchRun(TimeSpan Ready, TimeSpan ReadyCpu, IReadOnlyList<TimeSpan> Times, IReadOnlyList<TimeSpan> Cpu)
    {
        public TimeSpan First => Times[0];

        /// <summary>The best of the later batches.</summary>
        public TimeSpan Warm => Times.Skip(1).Min();

        public TimeSpan WarmCpu => Cpu.Skip(1).Min();

        public double TimeRatio => First / Warm;

        public double CpuRatio => Cpu[0] / WarmCpu;
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
