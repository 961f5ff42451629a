using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Grains.Items;
using Floodgate.Grains.Limiting;
using Floodgate.Limiting;

// Floodgate's benchmark harness. Each measurement runs next to a baseline in the same process and is reported as a
// ratio, so numbers from different machines compare. Usage:
//   dotnet run -c Release --project bench/Floodgate.Bench [-- --write bench/BENCHMARKS.md]
//   dotnet run -c Release --project bench/Floodgate.Bench -- failover [--runs 3] [--bound-seconds 150] [--write bench/BENCHMARKS.md]
//   dotnet run -c Release --project bench/Floodgate.Bench -- scale [--items 100000,1000000] [--repeat 20] [--repeat-items 100000]
//       [--gc server|workstation] [--set Floodgate:Batches:Key=value ...] [--write bench/BENCHMARKS.md]
//   dotnet run -c Release --project bench/Floodgate.Bench -- gateway [--requests 2000] [--write bench/BENCHMARKS.md]
// The failover and scale scenarios run real processes (see Failover/, Scale/) and write their own sections of the file;
// the gateway scenario measures the latency the OpenAI-compatible gateway adds (see Gateway/GatewayOverheadBenchmark.cs).
if (args is ["failover", ..])
{
    Environment.ExitCode = await Floodgate.Bench.Failover.FailoverBenchmark.RunAsync(args[1..]);
    return;
}

if (args is ["gateway", ..])
{
    Environment.ExitCode = await Floodgate.Bench.Gateway.GatewayOverheadBenchmark.RunAsync(args[1..]);
    return;
}

//   dotnet run -c Release --project bench/Floodgate.Bench -- peers [--quick] [--write bench/BENCHMARKS.md]
// The peers scenario runs Floodgate next to BullMQ, a Redis semaphore and a SemaphoreSlim loop (see Peers/PeersBenchmark.cs);
// --quick runs only the .NET pairs, small enough for CI.
if (args is ["peers", ..])
{
    Environment.ExitCode = await Floodgate.Bench.Peers.PeersBenchmark.RunAsync(args[1..]);
    return;
}

//   dotnet run -c Release --project bench/Floodgate.Bench -- silo [--items 100000,1000000] [--repeat 3] [--variants cold,warm-up,...]
//       [--warm-only] [--write bench/BENCHMARKS.md]
// The silo scenario measures a real Silo process: first batch against a warm one, and wall time and peak RSS by batch size
// (see Scale/SiloProcessBenchmark.cs).
if (args is ["silo", ..])
{
    Environment.ExitCode = await Floodgate.Bench.Scale.SiloProcessBenchmark.RunAsync(args[1..]);
    return;
}

//   dotnet run -c Release --project bench/Floodgate.Bench -- scale [--write bench/BENCHMARKS.md]
// The scale scenario streams large echo batches into a real silo on Redis (chunked storage, flat memory; see Scale/ScaleBenchmark.cs).
if (args is ["scale", ..])
{
    Environment.ExitCode = await Floodgate.Bench.Scale.ScaleBenchmark.RunAsync(args[1..]);
    return;
}

var writeTo = args.SkipWhile(a => a != "--write").Skip(1).FirstOrDefault();
var rows = new List<(string Name, string Result, string Baseline, string Ratio)>();

// 1. The limiter's bookkeeping vs SemaphoreSlim: the cost of leases, fairness and rate accounting per grant.
{
    const int n = 1_000_000;
    var semaphore = new SemaphoreSlim(64, 64);
    var baseline = Measure(() =>
    {
        for (var i = 0; i < n; i++)
        {
            semaphore.Wait(0);
            semaphore.Release();
        }
    });
    var ledger = new PermitLedger("bench", TimeProvider.System);
    ledger.SetMaxConcurrency(64);
    var measured = Measure(() =>
    {
        for (var i = 0; i < n; i++)
        {
            ledger.Release(ledger.TryAcquire("h", 1, TimeSpan.FromMinutes(1))!.LeaseId);
        }
    });
    rows.Add(("PermitLedger acquire+release (1M, single thread)", Rate(n, measured), $"SemaphoreSlim {Rate(n, baseline)}", Ratio(measured, baseline)));
}

// 1b. Renewal cost with many leases out vs few: the expiry index keeps a renewal O(log n) (it used to scan every lease).
{
    const int renewals = 200_000;
    TimeSpan RenewWith(int leasesOut)
    {
        var ledger = new PermitLedger("bench", TimeProvider.System);
        ledger.SetMaxConcurrency(leasesOut);
        var ids = Enumerable.Range(0, leasesOut).Select(_ => ledger.TryAcquire("h", 1, TimeSpan.FromMinutes(5))!.LeaseId).ToArray();
        return Measure(() =>
        {
            for (var i = 0; i < renewals; i++)
            {
                ledger.Renew(ids[i % ids.Length]);
            }
        });
    }

    var few = RenewWith(1_000);
    var many = RenewWith(100_000);
    rows.Add(("PermitLedger renew, 100,000 leases out (200k renewals)", Rate(renewals, many), $"1,000 leases out {Rate(renewals, few)}", Ratio(many, few)));
}

// 2 and 3 run against an in-process cluster of one silo, called through the external client.
var floodgate = await Floodgate.Bench.Peers.FloodgateInProcess.StartAsync();
try
{
    var cluster = floodgate.Grains;
    var client = floodgate.Client;
    const int callers = 64;
    const int perCaller = 500;

    // 2. Global limiter round trip (Acquire + Release = 2 grain calls) vs 2 plain grain calls of the same cluster.
    var limiter = cluster.GetGrain<IGlobalLimiterGrain>("bench-limiter");
    await limiter.SetLimitsAsync(new LimiterLimits(callers));
    var breaker = cluster.GetGrain<ICircuitBreakerGrain>("bench-breaker");
    await Concurrently(callers, 50, async () => { await breaker.GetStatusAsync(); }); // warm-up
    await Concurrently(callers, 50, async () =>
    {
        var warm = await limiter.AcquireWaitingAsync(new AcquireRequest("bench", 1, TimeSpan.FromSeconds(30)), TimeProvider.System);
        await limiter.ReleaseAsync(warm.Lease!.LeaseId);
    });
    var plain = await MeasureAsync(() => Concurrently(callers, perCaller, async () =>
    {
        await breaker.TryPassAsync();
        await breaker.GetStatusAsync();
    }));
    var leases = await MeasureAsync(() => Concurrently(callers, perCaller, async () =>
    {
        var result = await limiter.AcquireWaitingAsync(new AcquireRequest("bench", 1, TimeSpan.FromSeconds(30)), TimeProvider.System);
        await limiter.ReleaseAsync(result.Lease!.LeaseId);
    }));
    var pairs = callers * perCaller;
    rows.Add(($"Global lease acquire+release, {callers} concurrent callers", Rate(pairs, leases), $"2 breaker calls {Rate(pairs, plain)}", Ratio(leases, plain)));

    // 3. A batch of echo items end to end (about six grain calls per item) vs the same number of lease round trips.
    const int items = 5_000;
    var spec = new BatchSpec
    {
        Items = Enumerable.Range(0, items).Select(i => JsonSerializer.Serialize($"item-{i}")).ToList(),
        Processor = "echo",
        Limiter = "bench-batch",
        LocalLimit = callers,
        GlobalLimit = callers,
    };
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var batch = await MeasureAsync(async () => await (await client.SubmitBatchAsync(spec)).WaitForCompletionAsync());
    var allocatedPerItem = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / items;
    var leaseOnly = await MeasureAsync(() => Concurrently(callers, items / callers, async () =>
    {
        var result = await limiter.AcquireWaitingAsync(new AcquireRequest("bench", 1, TimeSpan.FromSeconds(30)), TimeProvider.System);
        await limiter.ReleaseAsync(result.Lease!.LeaseId);
    }));
    rows.Add(($"Batch of {items} echo items, local/global limit {callers}", Rate(items, batch), $"{items} lease round trips {Rate(items / callers * callers, leaseOnly)}", Ratio(batch, leaseOnly)));
    rows.Add(("Batch allocations per item (client + silo, one process)", $"{allocatedPerItem / 1024.0:0.0} KiB", "-", "-"));
}
finally
{
    await floodgate.DisposeAsync();
}

var report = new StringBuilder()
    .AppendLine("| measurement | result | baseline (same process) | time ratio (measured / baseline) |")
    .AppendLine("|---|---|---|---|");
foreach (var row in rows)
{
    report.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Result} | {row.Baseline} | {row.Ratio} |");
}

Console.WriteLine(report);
if (writeTo is not null)
{
    var text = $"""
        # Floodgate benchmarks

        Produced by `dotnet run -c Release --project bench/Floodgate.Bench -- --write bench/BENCHMARKS.md`
        on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} cores, .NET {Environment.Version}). Absolute rates depend on the
        machine; the ratios against the baseline measured in the same run are what to compare across runs.

        {report}
        - *PermitLedger*: the limiter's bookkeeping (lease table, expiry index, per-holder queues, rate window) per grant,
          against a `SemaphoreSlim` that does only the counting.
        - *PermitLedger renew*: a renewal with 100,000 leases out against one with 1,000 out; the expiry index keeps it
          O(log n) (a scan of every lease made it 21× slower before).
        - *Global lease*: what a caller pays for one admission through the cluster (two grain calls, and the grant's
          share of a group-committed write of the lease table to grain storage — in-memory here), against two plain
          grain calls of the same size to another grain.
        - *Batch*: items per second through batch → item → breaker → limiter → processor → batch, against the lease
          round trips alone. Each item also costs its start message to its lane's item grain ({ItemLanes.Count} lane activations per
          batch) and its share of grouped outcome reports and grouped lease releases; breaker calls are skipped while
          the silo's view of the circuit is closed.
        - Runs on a shared 2-core machine vary by about ±30 % between runs; compare ratios, and only large changes.
        """;

    // Sections written by other scenarios (failover) stay.
    var sections = await Floodgate.Bench.BenchmarksFile.ReadSectionsAsync(writeTo);
    await File.WriteAllTextAsync(writeTo, sections.Length == 0 ? text : $"{text.TrimEnd()}\n\n{sections}");
}

static TimeSpan Measure(Action action)
{
    action(); // warm-up (JIT)
    var stopwatch = Stopwatch.StartNew();
    action();
    return stopwatch.Elapsed;
}

static async Task<TimeSpan> MeasureAsync(Func<Task> action)
{
    var stopwatch = Stopwatch.StartNew();
    await action();
    return stopwatch.Elapsed;
}

static Task Concurrently(int callers, int each, Func<Task> call) =>
    Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
    {
        for (var i = 0; i < each; i++)
        {
            await call();
        }
    }));

static string Rate(int count, TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture, $"{count / elapsed.TotalSeconds:N0}/s");

static string Ratio(TimeSpan measured, TimeSpan baseline) => string.Create(CultureInfo.InvariantCulture, $"{measured / baseline:0.00}×");
