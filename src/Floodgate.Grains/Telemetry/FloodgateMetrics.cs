using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Floodgate.Batches;
using Floodgate.Breakers;

namespace Floodgate.Grains.Telemetry;

/// <summary>
/// Floodgate's instruments, all on the one <see cref="Meter"/> named <see cref="MeterName"/>. Grains report events with
/// one call each; gauges read the figures of the limiter and breaker activations on this silo when a reader collects.
/// Tags are limiter, breaker and processor names and item statuses only: nothing secret.
/// </summary>
public sealed class FloodgateMetrics
{
    /// <summary>The meter's name, for exporters (<c>AddMeter(FloodgateMetrics.MeterName)</c>).</summary>
    public const string MeterName = "Floodgate";

    // Seconds: from sub-millisecond grants to calls that wait out a long rate-limit window.
    private static readonly IReadOnlyList<double> SecondsBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly ConcurrentDictionary<string, Tracked<Func<LimiterFigures>>> _limiters = new();
    private readonly ConcurrentDictionary<string, Tracked<Func<CircuitState>>> _breakers = new();
    private readonly Counter<long> _grants;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _expirations;
    private readonly Histogram<double> _acquireWait;
    private readonly Counter<long> _trips;
    private readonly Counter<long> _items;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _rateLimitHits;
    private readonly Histogram<double> _itemLatency;
    private readonly Counter<long> _batchesStarted;
    private readonly Counter<long> _batchesFinished;
    private readonly UpDownCounter<long> _batchesRunning;

    /// <summary>Creates the meter from <paramref name="meterFactory"/> (disposed with the service provider).</summary>
    public FloodgateMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };

        meter.CreateObservableGauge("floodgate.limiter.limit", () => ObserveLimiters(f => f.Limit), "{permit}", "The limiter's maximum concurrency.");
        meter.CreateObservableGauge("floodgate.limiter.in_use", () => ObserveLimiters(f => f.InUse), "{permit}", "Permits held by live leases.");
        meter.CreateObservableGauge("floodgate.limiter.waiting", () => ObserveLimiters(f => f.Waiting), "{request}", "Acquire requests waiting in the limiter's queue.");
        _grants = meter.CreateCounter<long>("floodgate.limiter.grants", "{lease}", "Leases granted (durably recorded).");
        _timeouts = meter.CreateCounter<long>("floodgate.limiter.timeouts", "{request}", "Acquire requests that got no permit in time.");
        _expirations = meter.CreateCounter<long>("floodgate.limiter.expirations", "{lease}", "Leases that expired without renewal or release.");
        _acquireWait = meter.CreateHistogram("floodgate.limiter.acquire_wait", "s", "Time from an acquire request to its grant.", advice: seconds);

        meter.CreateObservableGauge("floodgate.breaker.state", ObserveBreakers, null, "Circuit state: 0 closed, 1 open, 2 half-open.");
        _trips = meter.CreateCounter<long>("floodgate.breaker.trips", "{trip}", "Times a circuit opened.");

        _items = meter.CreateCounter<long>("floodgate.items", "{item}", "Items finished, by outcome (status).");
        _retries = meter.CreateCounter<long>("floodgate.item.retries", "{retry}", "Attempts after an item's first.");
        _rateLimitHits = meter.CreateCounter<long>("floodgate.item.rate_limit_hits", "{response}", "Upstream rate-limit responses (HTTP 429) seen by items.");
        _itemLatency = meter.CreateHistogram("floodgate.item.latency", "s", "Time from an item's start to its outcome, retries included.", advice: seconds);

        _batchesStarted = meter.CreateCounter<long>("floodgate.batches.started", "{batch}", "Batches submitted.");
        _batchesFinished = meter.CreateCounter<long>("floodgate.batches.finished", "{batch}", "Batches whose every item has an outcome.");
        _batchesRunning = meter.CreateUpDownCounter<long>("floodgate.batches.running", "{batch}", "Unfinished batches active on this silo.");
    }

    /// <summary>
    /// Publishes a limiter activation's figures until the returned handle is disposed. <paramref name="read"/> runs on the
    /// collector's thread: it must only read plain fields (a figure may be one turn stale, never torn).
    /// </summary>
    internal IDisposable TrackLimiter(string limiter, Func<LimiterFigures> read) => Track(_limiters, limiter, read);

    /// <summary>Publishes a breaker activation's state until the returned handle is disposed (see <see cref="TrackLimiter"/>).</summary>
    internal IDisposable TrackBreaker(string breaker, Func<CircuitState> read) => Track(_breakers, breaker, read);

    internal void Granted(string limiter, TimeSpan waited)
    {
        var tag = new KeyValuePair<string, object?>("limiter", limiter);
        _grants.Add(1, tag);
        _acquireWait.Record(waited.TotalSeconds, tag);
    }

    internal void TimedOut(string limiter) => _timeouts.Add(1, new KeyValuePair<string, object?>("limiter", limiter));

    internal void Expired(string limiter, long count)
    {
        if (count > 0)
        {
            _expirations.Add(count, new KeyValuePair<string, object?>("limiter", limiter));
        }
    }

    internal void BreakerChanged(string breaker, CircuitState to)
    {
        if (to == CircuitState.Open)
        {
            _trips.Add(1, new KeyValuePair<string, object?>("breaker", breaker));
        }
    }

    internal void ItemFinished(string processor, ItemReport report)
    {
        var processorTag = new KeyValuePair<string, object?>("processor", processor);
        _items.Add(1, processorTag, new KeyValuePair<string, object?>("status", StatusName(report.Outcome.Status)));
        _itemLatency.Record(report.Duration.TotalSeconds, processorTag);
        if (report.Retries > 0)
        {
            _retries.Add(report.Retries, processorTag);
        }

        if (report.RateLimitHits > 0)
        {
            _rateLimitHits.Add(report.RateLimitHits, processorTag);
        }
    }

    /// <summary>Counts a new batch; dispose the handle (or <see cref="RunningBatch.Finish"/>) when it stops running here.</summary>
    internal RunningBatch BatchStarted()
    {
        _batchesStarted.Add(1);
        return new RunningBatch(this);
    }

    /// <summary>An unfinished batch resumed on this silo after its previous activation was lost or moved.</summary>
    internal RunningBatch BatchResumed() => new(this);

    private static string StatusName(ItemStatus status) => status switch
    {
        ItemStatus.Succeeded => "succeeded",
        ItemStatus.Failed => "failed",
        ItemStatus.Cancelled => "cancelled",
        _ => "other",
    };

    private IEnumerable<Measurement<int>> ObserveLimiters(Func<LimiterFigures, int> figure)
    {
        foreach (var (name, tracked) in _limiters)
        {
            yield return new Measurement<int>(figure(tracked.Read()), new KeyValuePair<string, object?>("limiter", name));
        }
    }

    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        foreach (var (name, tracked) in _breakers)
        {
            yield return new Measurement<int>((int)tracked.Read(), new KeyValuePair<string, object?>("breaker", name));
        }
    }

    private static IDisposable Track<T>(ConcurrentDictionary<string, Tracked<T>> registry, string name, T read)
    {
        var tracked = new Tracked<T>(registry, name, read);
        // A newer activation of the same name replaces an older one still deactivating here.
        registry[name] = tracked;
        return tracked;
    }

    /// <summary>One activation's entry; disposing removes it only if no newer activation has replaced it.</summary>
    private sealed class Tracked<T>(ConcurrentDictionary<string, Tracked<T>> registry, string name, T read) : IDisposable
    {
        public T Read { get; } = read;

        public void Dispose() => registry.TryRemove(new KeyValuePair<string, Tracked<T>>(name, this));
    }

    /// <summary>A batch counted as running on this silo; leaves the count exactly once.</summary>
    internal sealed class RunningBatch : IDisposable
    {
        private readonly FloodgateMetrics _metrics;
        private int _left;

        public RunningBatch(FloodgateMetrics metrics)
        {
            _metrics = metrics;
            _metrics._batchesRunning.Add(1);
        }

        /// <summary>Every item has its outcome, durably.</summary>
        public void Finish()
        {
            if (Leave())
            {
                _metrics._batchesFinished.Add(1);
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

            _metrics._batchesRunning.Add(-1);
            return true;
        }
    }
}

/// <summary>A limiter activation's gauges.</summary>
internal readonly record struct LimiterFigures(int Limit, int InUse, int Waiting);
