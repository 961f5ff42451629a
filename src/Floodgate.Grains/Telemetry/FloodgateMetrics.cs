using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Grains.Batches;
using Floodgate.Grains.WarmUp;

namespace Floodgate.Grains.Telemetry;

/// <summary>
/// Floodgate's instruments, all on the one <see cref="Meter"/> named <see cref="MeterName"/>. Grains report events with
/// one call each; gauges read the figures of the limiter and breaker activations in this process when a reader collects.
/// Tags are limiter, breaker and processor names and item statuses only: nothing secret. The start-up warm-up's batch,
/// items, limiter and breaker (<see cref="WarmUpNames"/>) are not counted: they are not work anyone asked for.
/// <para>The meter is one per process, never disposed, rather than one per host from <c>IMeterFactory</c>: OpenTelemetry
/// merges same-named meters into one stream, and disposing any of them (a host stopping; tests run several hosts in a
/// process) silently ends that stream for every other (opentelemetry-dotnet issue 6412). A process runs one silo in
/// production, so per process is per silo.</para>
/// </summary>
public sealed class FloodgateMetrics
{
    /// <summary>The meter's name, for exporters (<c>AddMeter(FloodgateMetrics.MeterName)</c>).</summary>
    public const string MeterName = "Floodgate";

    // Seconds: from sub-millisecond grants to calls that wait out a long rate-limit window.
    private static readonly IReadOnlyList<double> SecondsBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private static readonly ConcurrentDictionary<Tracked<LimiterFigures>, byte> Limiters = new();
    private static readonly ConcurrentDictionary<Tracked<CircuitState>, byte> Breakers = new();
    private static readonly Meter Meter = new(MeterName);
    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = SecondsBuckets };

    private static readonly Counter<long> Grants = Meter.CreateCounter<long>("floodgate.limiter.grants", "{lease}", "Leases granted (durably recorded).");
    private static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("floodgate.limiter.timeouts", "{request}", "Acquire requests that got no permit in time.");
    private static readonly Counter<long> Expirations = Meter.CreateCounter<long>("floodgate.limiter.expirations", "{lease}", "Leases that expired without renewal or release.");
    private static readonly Histogram<double> AcquireWait = Meter.CreateHistogram(
        "floodgate.limiter.acquire_wait", "s", "Time from an acquire request to its grant.", advice: Seconds);

    private static readonly Counter<long> Trips = Meter.CreateCounter<long>("floodgate.breaker.trips", "{trip}", "Times a circuit opened.");

    private static readonly Counter<long> Items = Meter.CreateCounter<long>("floodgate.items", "{item}", "Items finished, by outcome (status).");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("floodgate.item.retries", "{retry}", "Attempts after an item's first.");
    private static readonly Counter<long> RateLimitHits = Meter.CreateCounter<long>(
        "floodgate.item.rate_limit_hits", "{response}", "Upstream rate-limit responses (HTTP 429) seen by items.");
    private static readonly Histogram<double> ItemLatency = Meter.CreateHistogram(
        "floodgate.item.latency", "s", "Time from an item's start to its outcome, retries included.", advice: Seconds);

    private static readonly Counter<long> BatchesStarted = Meter.CreateCounter<long>("floodgate.batches.started", "{batch}", "Batches submitted.");
    private static readonly Counter<long> BatchesFinished = Meter.CreateCounter<long>(
        "floodgate.batches.finished", "{batch}", "Batches whose every item has an outcome.");

    private static readonly Counter<long> GatewayRequests = Meter.CreateCounter<long>(
        "floodgate.gateway.requests", "{request}", "Gateway requests by upstream, tenant and outcome (completed, cached, upstream_rate_limited, rejected, failed).");
    private static readonly Counter<long> GatewayTokens = Meter.CreateCounter<long>(
        "floodgate.gateway.tokens", "{token}", "Model tokens the upstream reported for gateway requests, by upstream and tenant.");
    private static readonly Histogram<double> GatewayQueueWait = Meter.CreateHistogram(
        "floodgate.gateway.queue_wait", "s", "Time a gateway request waited for its permits.", advice: Seconds);

    // A gauge over a process-wide count rather than an up-down counter: a reader that starts listening late (a second
    // host in the same process, an exporter added after start) would otherwise see only the changes since it began,
    // and a batch started before then and finished after would make the figure drift below the truth.
    private static int _batchesRunning;

    static FloodgateMetrics()
    {
        // Observable instruments need no field: the meter keeps them and calls back on collection.
        Meter.CreateObservableGauge(
            "floodgate.limiter.limit", () => ObserveLimiters(f => f.Limit), "{permit}", "The limiter's maximum concurrency.");
        Meter.CreateObservableGauge(
            "floodgate.limiter.in_use", () => ObserveLimiters(f => f.InUse), "{permit}", "Permits held by live leases.");
        Meter.CreateObservableGauge(
            "floodgate.limiter.waiting", () => ObserveLimiters(f => f.Waiting), "{request}", "Acquire requests waiting in the limiter's queue.");
        Meter.CreateObservableGauge(
            "floodgate.breaker.state", ObserveBreakers, null, "Circuit state: 0 closed, 1 open, 2 half-open.");
        Meter.CreateObservableGauge(
            "floodgate.batches.running", () => Volatile.Read(ref _batchesRunning), "{batch}", "Unfinished batches active in this process.");
    }

    /// <summary>
    /// Publishes a limiter activation's figures until the returned handle is disposed. <paramref name="read"/> runs on the
    /// collector's thread: it must only read plain fields (a figure may be one turn stale, never torn).
    /// </summary>
    internal IDisposable TrackLimiter(string limiter, Func<LimiterFigures> read) => Track(Limiters, limiter, read);

    /// <summary>Publishes a breaker activation's state until the returned handle is disposed (see <see cref="TrackLimiter"/>).</summary>
    internal IDisposable TrackBreaker(string breaker, Func<CircuitState> read) => Track(Breakers, breaker, read);

    internal void Granted(string limiter, TimeSpan waited)
    {
        if (WarmUpNames.IsWarmUp(limiter))
        {
            return;
        }

        var tag = new KeyValuePair<string, object?>("limiter", limiter);
        Grants.Add(1, tag);
        AcquireWait.Record(waited.TotalSeconds, tag);
    }

    internal void TimedOut(string limiter)
    {
        if (!WarmUpNames.IsWarmUp(limiter))
        {
            Timeouts.Add(1, new KeyValuePair<string, object?>("limiter", limiter));
        }
    }

    internal void Expired(string limiter, long count)
    {
        if (count > 0 && !WarmUpNames.IsWarmUp(limiter))
        {
            Expirations.Add(count, new KeyValuePair<string, object?>("limiter", limiter));
        }
    }

    internal void BreakerChanged(string breaker, CircuitState to)
    {
        if (to == CircuitState.Open && !WarmUpNames.IsWarmUp(breaker))
        {
            Trips.Add(1, new KeyValuePair<string, object?>("breaker", breaker));
        }
    }

    internal void ItemFinished(string batchId, string processor, ItemReport report)
    {
        if (WarmUpNames.IsWarmUp(batchId))
        {
            return;
        }

        var processorTag = new KeyValuePair<string, object?>("processor", processor);
        Items.Add(1, processorTag, new KeyValuePair<string, object?>("status", StatusName(report.Outcome.Status)));
        ItemLatency.Record(report.Duration.TotalSeconds, processorTag);
        if (report.Retries > 0)
        {
            Retries.Add(report.Retries, processorTag);
        }

        if (report.RateLimitHits > 0)
        {
            RateLimitHits.Add(report.RateLimitHits, processorTag);
        }
    }

    /// <summary>
    /// Counts one gateway request of <paramref name="tenant"/> to <paramref name="upstream"/>: its outcome
    /// (<c>completed</c>, <c>upstream_rate_limited</c>, <c>rejected</c>, <c>failed</c>: no answer) and the tokens the upstream reported.
    /// Tenants are configured names, never keys.
    /// </summary>
    public void GatewayRequest(string upstream, string tenant, string outcome, int? tokens)
    {
        var upstreamTag = new KeyValuePair<string, object?>("upstream", upstream);
        var tenantTag = new KeyValuePair<string, object?>("tenant", tenant);
        GatewayRequests.Add(1, upstreamTag, tenantTag, new KeyValuePair<string, object?>("outcome", outcome));
        if (tokens is > 0)
        {
            GatewayTokens.Add(tokens.Value, upstreamTag, tenantTag);
        }
    }

    /// <summary>Records how long a gateway request queued for its permits.</summary>
    public void GatewayQueued(string upstream, TimeSpan waited) =>
        GatewayQueueWait.Record(waited.TotalSeconds, new KeyValuePair<string, object?>("upstream", upstream));

    /// <summary>Counts a new batch; dispose the handle (or <see cref="RunningBatch.Finish"/>) when it stops running here.</summary>
    internal RunningBatch BatchStarted(string batchId)
    {
        if (WarmUpNames.IsWarmUp(batchId))
        {
            return RunningBatch.Uncounted();
        }

        BatchesStarted.Add(1);
        return new RunningBatch();
    }

    /// <summary>An unfinished batch resumed on this silo after its previous activation was lost or moved.</summary>
    internal RunningBatch BatchResumed(string batchId) => WarmUpNames.IsWarmUp(batchId) ? RunningBatch.Uncounted() : new();

    private static string StatusName(ItemStatus status) => status switch
    {
        ItemStatus.Succeeded => "succeeded",
        ItemStatus.Failed => "failed",
        ItemStatus.Cancelled => "cancelled",
        _ => "other",
    };

    private static IEnumerable<Measurement<int>> ObserveLimiters(Func<LimiterFigures, int> figure)
    {
        foreach (var tracked in Limiters.Keys)
        {
            yield return new Measurement<int>(figure(tracked.Read()), new KeyValuePair<string, object?>("limiter", tracked.Name));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveBreakers()
    {
        foreach (var tracked in Breakers.Keys)
        {
            yield return new Measurement<int>((int)tracked.Read(), new KeyValuePair<string, object?>("breaker", tracked.Name));
        }
    }

    private static IDisposable Track<T>(ConcurrentDictionary<Tracked<T>, byte> registry, string name, Func<T> read)
    {
        if (WarmUpNames.IsWarmUp(name))
        {
            return Untracked.Instance;
        }

        var tracked = new Tracked<T>(registry, name, read);
        registry.TryAdd(tracked, 0);
        return tracked;
    }

    /// <summary>One activation's entry (one limiter may briefly have two while it moves); disposing removes it.</summary>
    private sealed class Tracked<T>(ConcurrentDictionary<Tracked<T>, byte> registry, string name, Func<T> read) : IDisposable
    {
        public string Name { get; } = name;

        public Func<T> Read { get; } = read;

        public void Dispose() => registry.TryRemove(this, out _);
    }

    /// <summary>The handle of a warm-up limiter or breaker: nothing to remove.</summary>
    private sealed class Untracked : IDisposable
    {
        public static readonly Untracked Instance = new();

        public void Dispose()
        {
        }
    }

    /// <summary>A batch counted as running on this silo; leaves the count exactly once.</summary>
    internal sealed class RunningBatch : IDisposable
    {
        private int _left;

        public RunningBatch() => Interlocked.Increment(ref _batchesRunning);

        private RunningBatch(int left) => _left = left;

        /// <summary>A batch that is not counted (the warm-up's): finishing or leaving it changes no figure.</summary>
        public static RunningBatch Uncounted() => new(left: 1);

        /// <summary>Every item has its outcome, durably.</summary>
        public void Finish()
        {
            if (Leave())
            {
                BatchesFinished.Add(1);
            }
        }

        /// <summary>The activation goes away unfinished; its successor counts it again.</summary>
        public void Dispose() => Leave();

        private bool Leave()
        {
            if (Interlocked.Exchange(ref _left, 1) != 0)
            {
                return false;
            }

            Interlocked.Decrement(ref _batchesRunning);
            return true;
        }
    }
}

/// <summary>A limiter activation's gauges.</summary>
internal readonly record struct LimiterFigures(int Limit, int InUse, int Waiting);
