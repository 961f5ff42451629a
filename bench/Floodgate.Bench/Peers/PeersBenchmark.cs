using System.Globalization;
using System.Text;
using Floodgate.ProcessCluster.Redis;
using Floodgate.Simulator;

namespace Floodgate.Bench.Peers;

/// <summary>
/// The <c>peers</c> scenario: Floodgate side by side with the tools a team would otherwise use, each pair in the same
/// invocation on the same machine — BullMQ (job queue on Redis), DistributedLock.Redis's semaphore, and a
/// <see cref="SemaphoreSlim"/> loop calling the simulator straight. <c>--quick</c> runs only the .NET-only pairs
/// (no node, no redis-server), small enough for CI. <c>--only rtt,wait</c> runs only the named groups of rows (see
/// <see cref="Groups"/>); its section is for reading, not for <c>--write</c>, which needs every row.
/// </summary>
internal static class PeersBenchmark
{
    public const string SectionHeading = "## Peers: Floodgate against BullMQ, a Redis semaphore and SemaphoreSlim";

    /// <summary>
    /// The groups of rows <c>--only</c> can pick: utilization at limits 10 and 60, acquire-wait tail, fairness, no-op
    /// throughput with the BullMQ pairs, permit round trips.
    /// </summary>
    public static readonly IReadOnlyList<string> Groups = ["utilization", "wait", "fairness", "throughput", "rtt"];

    private const string RedisPeer = "DistributedLock.Redis `RedisDistributedSemaphore`";

    public static async Task<int> RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        var writeTo = Option(args, "--write");
        var only = Option(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (only is not null && (writeTo is not null || only.FirstOrDefault(group => !Groups.Contains(group)) is not null))
        {
            Console.Error.WriteLine(writeTo is not null
                ? "error: --only measures some rows; --write needs them all."
                : $"error: unknown group in --only '{string.Join(',', only)}' (groups: {string.Join(", ", Groups)}).");
            return 2;
        }

        bool Runs(string group) => only is null || only.Contains(group);
        var sizes = quick ? PeerSizes.Quick : PeerSizes.Full;
        var machine = MachineInfo.Describe();
        var rows = new List<PeerRow>();
        var notes = new List<string>();
        void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

        // The in-process pairs first; their silo and simulator are gone before the pairs against redis-server start, so the
        // round trips' client process is a plain service process (no silo of its own on its thread pool and heap).
        var (endToEnd, processing, utilization10) = await RunInProcessPairsAsync(sizes, Runs, rows, notes, Log);
        GC.Collect();

        if (quick)
        {
            if (Runs("throughput"))
            {
                rows.Add(PeerRow.Higher($"No-op throughput, {sizes.NoOpItems:N0} echo items, end to end", sizes.NoOpItems / endToEnd.TotalSeconds,
                    "processing only (same batch size)", sizes.NoOpItems / processing.TotalSeconds, Rate));
            }

            notes.Add("Quick mode: only the .NET pairs, at small sizes (no node, no redis-server); the numbers show the harness works, not how fast Floodgate is.");
        }
        else if (!Runs("throughput") && !Runs("rtt"))
        {
            // Nothing of what follows was asked for.
        }
        else if (RedisProcess.Unavailable() is { } noRedis)
        {
            notes.Add($"BullMQ and Redis semaphore pairs skipped: {noRedis}");
        }
        else
        {
            var logs = Path.Combine(Path.GetTempPath(), "floodgate-bench-peers");
            await using var redis = await RedisProcess.StartAsync(logs);
            var (bullMq, unavailable) = Runs("throughput") ? await BullMqPeer.PrepareAsync(redis.ConnectionString) : (null, null);
            if (bullMq is null)
            {
                if (unavailable is not null)
                {
                    notes.Add($"BullMQ pairs skipped: {unavailable}");
                }
            }
            else
            {
                Log("BullMQ: no-op jobs end to end and processing only, 50 ms jobs at global concurrency 10");
                var theirEndToEnd = await bullMq.RunAsync(sizes.NoOpItems, sizes.NoOpLimit, processingOnly: false, TimeSpan.Zero);
                var theirProcessing = await bullMq.RunAsync(sizes.NoOpItems, sizes.NoOpLimit, processingOnly: true, TimeSpan.Zero);
                var theirSleeps = await bullMq.RunAsync(sizes.Limit10Items, 10, processingOnly: false, PeerSizes.Upstream);
                var peer = $"BullMQ {bullMq.Version}";
                rows.Add(PeerRow.Higher($"No-op throughput, {sizes.NoOpItems:N0} items at (global) concurrency {sizes.NoOpLimit}, end to end",
                    sizes.NoOpItems / endToEnd.TotalSeconds, peer, sizes.NoOpItems / theirEndToEnd.TotalSeconds, Rate));
                rows.Add(PeerRow.Higher($"No-op throughput, {sizes.NoOpItems:N0} items at (global) concurrency {sizes.NoOpLimit}, processing only",
                    sizes.NoOpItems / processing.TotalSeconds, peer, sizes.NoOpItems / theirProcessing.TotalSeconds, Rate));
                rows.Add(PeerRow.Higher($"Utilization at (global) limit 10, {sizes.Limit10Items:N0} jobs of 50 ms",
                    Utilization(sizes.Limit10Items, 10, utilization10), peer, Utilization(sizes.Limit10Items, 10, theirSleeps),
                    v => v.ToString("0.00", CultureInfo.InvariantCulture)));
            }

            if (Runs("rtt"))
            {
                await using var semaphore = new RedisSemaphorePeer(redis.ConnectionString);
                await using var external = await ExternalFloodgate.StartAsync(logs);
                foreach (var callers in sizes.RoundTripCallers)
                {
                    Log($"permit round trip: {callers} caller(s)");
                    var each = sizes.RoundTripsPerCaller(callers);
                    var measured = await Latencies.InterleavedAsync(
                        callers, each, PeerSizes.RoundTripTurns(each), sizes.RoundTripWarmUp,
                        await PermitRoundTrips.PrepareAsync(external.Client, $"bench-rtt-{callers}", PermitRoundTrips.Release.OneWay, callers),
                        await semaphore.PermitRoundTripAsync(callers),
                        await PermitRoundTrips.PrepareAsync(external.Client, $"bench-rtt-answered-{callers}", PermitRoundTrips.Release.Answered, callers));
                    var (ours, theirs, answered) = (measured[0], measured[1], measured[2]);
                    rows.Add(PeerRow.Lower($"Permit round trip (acquire + one-way release) p50, {callers} caller(s), {ours.Count:N0} round trips",
                        ours.Percentile(50), RedisPeer, theirs.Percentile(50), Milliseconds));
                    rows.Add(PeerRow.Lower($"Permit round trip (acquire + one-way release) p99, {callers} caller(s)",
                        ours.Percentile(99), RedisPeer, theirs.Percentile(99), Milliseconds));
                    rows.Add(PeerRow.Lower($"Permit round trip (acquire + answered release) p50, {callers} caller(s)",
                        answered.Percentile(50), RedisPeer, theirs.Percentile(50), Milliseconds));
                }

                // As deployed: the grant is answered once it is written to Redis, so the round trip holds a Redis write.
                Log("permit round trip: 1 caller, silo on Redis grain storage");
                await using var onRedis = await ExternalFloodgate.StartOnRedisAsync(logs, Log);
                var once = sizes.RoundTripsPerCaller(1);
                var durable = await Latencies.InterleavedAsync(
                    1, once, PeerSizes.RoundTripTurns(once), sizes.RoundTripWarmUp,
                    await PermitRoundTrips.PrepareAsync(onRedis.Client, "bench-rtt-redis", PermitRoundTrips.Release.OneWay, 1),
                    await semaphore.PermitRoundTripAsync(1));
                rows.Add(PeerRow.Lower("Permit round trip (acquire + one-way release) p50, 1 caller(s), silo on Redis grain storage",
                    durable[0].Percentile(50), RedisPeer, durable[1].Percentile(50), Milliseconds));
            }
        }

        var command = "dotnet run -c Release --project bench/Floodgate.Bench -- peers" + (quick ? " --quick" : string.Empty) +
            (only is null ? string.Empty : $" --only {string.Join(',', only)}") + (writeTo is null ? string.Empty : $" --write {writeTo}");
        var section = Section(command, machine, quick, sizes, rows, notes);
        Console.WriteLine();
        Console.WriteLine(section);
        if (writeTo is not null)
        {
            await BenchmarksFile.WriteSectionAsync(writeTo, SectionHeading, section);
        }

        return 0;
    }

    /// <summary>
    /// The pairs against Floodgate in this process (one silo, in-memory storage) and the simulator: utilization, acquire
    /// wait, fairness, no-op throughput. Returns the throughput times and the utilization run at limit 10, which the BullMQ
    /// pairs compare against.
    /// </summary>
    private static async Task<(TimeSpan EndToEnd, TimeSpan Processing, TimeSpan Utilization10)> RunInProcessPairsAsync(
        PeerSizes sizes, Func<string, bool> runs, List<PeerRow> rows, List<string> notes, Action<string> log)
    {
        if (!runs("utilization") && !runs("wait") && !runs("fairness") && !runs("throughput"))
        {
            return (TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        }

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions
        {
            LatencyMs = (int)PeerSizes.Upstream.TotalMilliseconds,
            MaxConcurrency = 0,
        });
        using var loop = new SemaphoreSlimPeer(simulator.BaseUrl);
        await using var floodgate = await FloodgateInProcess.StartAsync(simulator.BaseUrl);
        await floodgate.RunBatchAsync("bench-warm-up", 500, "echo", 64); // JIT and first activations
        await floodgate.RunBatchAsync("bench-warm-up-sim", 100, "openai-chat", 10);
        await loop.RunAsync(100, 10);

        // Utilization at limits 10 and 60 against the simulator (50 ms a request), and the most it saw in flight.
        var utilization = new Dictionary<int, (TimeSpan Floodgate, int FloodgateMax, TimeSpan Loop)>();
        foreach (var (limit, items) in runs("utilization") || runs("throughput") ? new[] { (10, sizes.Limit10Items), (60, sizes.Limit60Items) } : [])
        {
            log($"utilization at limit {limit}: {items} items");
            simulator.ResetStats();
            var ours = await floodgate.RunBatchAsync($"bench-util-{limit}", items, "openai-chat", limit);
            var oursMax = simulator.GetStats().MaxConcurrent;
            var theirs = await loop.RunAsync(items, limit);
            utilization[limit] = (ours, oursMax, theirs);
            rows.Add(PeerRow.Higher(
                $"Utilization at limit {limit}, {items:N0} calls of 50 ms",
                Utilization(items, limit, ours), "`SemaphoreSlim` loop", Utilization(items, limit, theirs),
                v => v.ToString("0.00", CultureInfo.InvariantCulture)));
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"At limit {limit} the simulator saw at most {oursMax} of Floodgate's requests in flight at once."));
        }

        // Acquire-wait tail: callers × 50 ms holds under few permits; the wait of every acquire.
        if (runs("wait"))
        {
            log($"acquire-wait tail: {sizes.WaitCallers} callers under {sizes.WaitPermits} permits");
            var ours = await floodgate.AcquireWaitsAsync("bench-wait", sizes.WaitCallers, sizes.WaitPermits, PeerSizes.Upstream, sizes.WaitRounds);
            var theirs = await SemaphoreSlimPeer.AcquireWaitsAsync(sizes.WaitCallers, sizes.WaitPermits, PeerSizes.Upstream, sizes.WaitRounds);
            rows.Add(PeerRow.Lower(
                $"Acquire-wait p99, {sizes.WaitCallers} callers × 50 ms under {sizes.WaitPermits} permits ({ours.Count} acquires)",
                ours.Percentile(99), "in-process `SemaphoreSlim`", theirs.Percentile(99), Milliseconds));
        }

        // Fairness: a small batch behind a large one on the same limiter, against its time alone.
        if (runs("fairness"))
        {
            log($"fairness: {sizes.FairSmall} items behind {sizes.FairLarge}");
            var ours = await floodgate.RunSmallBehindLargeAsync("bench-fair", sizes.FairSmall, sizes.FairLarge, sizes.FairLimit);
            var theirs = await loop.RunSmallBehindLargeAsync(sizes.FairSmall, sizes.FairLarge, sizes.FairLimit);
            rows.Add(PeerRow.Lower(
                $"Fairness: {sizes.FairSmall} items behind {sizes.FairLarge:N0} at limit {sizes.FairLimit}, time ÷ time alone",
                ours.Behind / ours.Solo, "`SemaphoreSlim` loop (one queue)", theirs.Behind / theirs.Solo,
                v => v.ToString("0.0", CultureInfo.InvariantCulture) + "×"));
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Fairness, absolute: Floodgate's small batch took {ours.Solo.TotalSeconds:0.00} s alone and {ours.Behind.TotalSeconds:0.00} s behind; the loop's {theirs.Solo.TotalSeconds:0.00} s and {theirs.Behind.TotalSeconds:0.00} s."));
        }

        // No-op throughput, end to end (submit to last outcome) and processing only (permits gated until submitted).
        var (endToEnd, processing) = (TimeSpan.Zero, TimeSpan.Zero);
        if (runs("throughput"))
        {
            log($"no-op throughput: {sizes.NoOpItems} echo items at limit {sizes.NoOpLimit}");
            endToEnd = await floodgate.RunBatchAsync("bench-noop-e2e", sizes.NoOpItems, "echo", sizes.NoOpLimit);
            processing = await floodgate.RunGatedBatchAsync("bench-noop-gated", sizes.NoOpItems, "echo", sizes.NoOpLimit);
        }

        return (endToEnd, processing, utilization.TryGetValue(10, out var at10) ? at10.Floodgate : TimeSpan.Zero);
    }

    private static string Section(string command, string machine, bool quick, PeerSizes sizes, List<PeerRow> rows, List<string> notes)
    {
        var text = new StringBuilder()
            .AppendLine(SectionHeading)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Produced by `{command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"on {DateTime.UtcNow:yyyy-MM-dd} ({machine}). Every pair ran in this one invocation, one after the other;")
            .AppendLine("Floodgate is one silo (in-memory storage) in the harness's process used through the test cluster's client, except")
            .AppendLine("for the permit round trips (a separate `Silo` process, see below; the in-process silo is stopped by then); the")
            .AppendLine("simulator answers in 50 ms with no limit of its own; redis-server and BullMQ's node worker run as separate processes")
            .AppendLine("on the same machine." + (quick ? " **Quick mode** (CI): small sizes, .NET pairs only." : string.Empty))
            .AppendLine()
            .AppendLine("| scenario | Floodgate | peer | peer result | ratio (Floodgate ÷ peer) | load |")
            .AppendLine("|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine(row.ToMarkdown());
        }

        text.AppendLine()
            .AppendLine("- *Ratio*: ↑ marks rows where higher is better for Floodgate (rates, utilization), ↓ where lower is (latencies, slowdowns).")
            .AppendLine("- *Utilization*: calls × 50 ms ÷ (limit × wall time): 1.00 keeps every permit busy all the time. Floodgate runs a batch")
            .AppendLine("  of `openai-chat` items (breaker, retries, durable outcomes, a global lease per call); the loop only counts.")
            .AppendLine("- *No-op throughput*: Floodgate: one batch of `echo` items, local and global limit 256, from submit to the last")
            .AppendLine("  outcome (end to end) or from releasing a gate that held every permit while the batch was submitted and queued")
            .AppendLine("  (processing only). BullMQ: one worker of concurrency 256 with queue-wide (global) concurrency 256, jobs added in")
            .AppendLine("  bulks of 1,000 while it runs (end to end) or all before it starts (processing only); completed jobs kept.")
            .AppendLine("- *Permit round trip*: one acquire and one release of a permit with as many permits as callers. Floodgate: a separate")
            .AppendLine("  `Silo` process (in-memory storage), called by this process as an external client over TCP through")
            .AppendLine("  `IFloodgateClient.TryAcquireLeaseAsync` (answered once the lease table's group-committed write holds the grant) and")
            .AppendLine("  `ReleaseLeaseOneWay` (one message, no answer; a caller's next acquire may overtake it and then waits for it) or")
            .AppendLine("  `ReleaseLeaseAsync` (answered); the peer: `RedisDistributedSemaphore.AcquireAsync` and disposing the handle (answered),")
            .AppendLine(CultureInfo.InvariantCulture, $"  against the redis-server process. Each of the three first runs unmeasured for {sizes.RoundTripWarmUp.TotalSeconds:0.#} s (the JIT's tiers in client and")
            .AppendLine("  silo reach steady code), then they are measured in alternating turns, so a change of load falls on all three alike.")
            .AppendLine("  Those silos keep grain state in memory; the row *silo on Redis grain storage* runs one `Silo` process with Redis")
            .AppendLine("  clustering and storage on a redis-server of its own, as deployed: each grant is answered after its Redis write.")
            .AppendLine("- *Acquire-wait*: the wait of each acquire while every caller holds its permit for 50 ms and asks again; Floodgate's")
            .AppendLine("  limiter queues FIFO within a holder and round-robin across holders (each caller is its own holder).")
            .AppendLine("- *Fairness*: the small batch's time submitted right behind the large one, divided by its time alone. A single")
            .AppendLine("  `SemaphoreSlim` queue serves the small group after the large one; Floodgate serves the batches round-robin.");
        foreach (var note in notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine("- **Load caveat**: the machine has 2 cores shared with other work (*load*: the 1-minute load average when the row's")
            .AppendLine("  pair finished). The harness, the silo, redis-server and node compete for them with everything else, and the two")
            .AppendLine("  sides of a pair run one after the other (the round trips in alternating turns), so a change of load between them")
            .AppendLine("  moves a ratio; absolute numbers vary several-fold between runs at loads above 2. Compare only large differences,")
            .AppendLine("  from runs at similar load.");
        return text.ToString();
    }

    private static double Utilization(int calls, int limit, TimeSpan elapsed) =>
        calls * PeerSizes.Upstream.TotalSeconds / (limit * elapsed.TotalSeconds);

    private static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture) + "/s";

    private static string Milliseconds(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
