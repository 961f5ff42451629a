using System.Diagnostics;
using Floodgate.Grains.Items;
using Floodgate.Grains.WarmUp;

namespace Floodgate.Grains.Telemetry;

/// <summary>
/// Floodgate's spans, from one <see cref="ActivitySource"/> named <see cref="SourceName"/>: a batch (submit → last
/// outcome), each item attempt, within it the wait for global permits and the upstream call. Parents come from
/// <see cref="Activity.Current"/>, which Orleans' activity propagation carries through grain calls, so one trace runs from
/// the SDK or HTTP request through the batch to every item. Spans cost nothing unless something listens (OpenTelemetry
/// with OTLP, or a test's listener). Tags name batches, positions, processors and limiters, never items or secrets.
/// The start-up warm-up (<see cref="WarmUpNames"/>) makes no span.
/// </summary>
public static class FloodgateTracing
{
    /// <summary>The source's name: what an OpenTelemetry tracer adds with <c>AddSource</c>.</summary>
    public const string SourceName = "Floodgate";

    /// <summary>Span names.</summary>
    public const string BatchSpan = "floodgate.batch";
    public const string ItemAttemptSpan = "floodgate.item.attempt";
    public const string PermitWaitSpan = "floodgate.limiter.wait";
    public const string UpstreamCallSpan = "floodgate.upstream.call";

    private static readonly ActivitySource Source = new(SourceName, typeof(FloodgateTracing).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Starts a batch's span as a child of the current one (the submit call), without making it current: the batch's own
    /// turns run in other contexts and enter it with <see cref="Enter"/>. Ended by <see cref="EndBatch"/>.
    /// </summary>
    internal static Activity? StartBatch(string batchId, int items, string processor, string limiter, bool resumed)
    {
        if (WarmUpNames.IsWarmUp(batchId))
        {
            return null;
        }

        var previous = Activity.Current;
        var activity = Source.StartActivity(BatchSpan, ActivityKind.Internal);
        Activity.Current = previous;
        activity?.SetTag("floodgate.batch.id", batchId)
            .SetTag("floodgate.batch.items", items)
            .SetTag("floodgate.processor", processor)
            .SetTag("floodgate.limiter", limiter);
        if (resumed)
        {
            // A successor activation after a loss: a new span, parented by whatever woke the batch.
            activity?.SetTag("floodgate.batch.resumed", true);
        }

        return activity;
    }

    /// <summary>Tags a batch's span with its item count, once a streamed submission has sent its last chunk.</summary>
    internal static void SetBatchItems(Activity? batch, int items) => batch?.SetTag("floodgate.batch.items", items);

    /// <summary>Makes <paramref name="batch"/> current until disposed, so item calls made now are its children.</summary>
    internal static Scope Enter(Activity? batch) => new(batch);

    /// <summary>Ends a batch's span: finished with its counts, or left unfinished (the activation went away).</summary>
    internal static void EndBatch(Activity? batch, int succeeded, int failed, int cancelled, bool finished)
    {
        if (batch is null)
        {
            return;
        }

        batch.SetTag("floodgate.batch.succeeded", succeeded)
            .SetTag("floodgate.batch.failed", failed)
            .SetTag("floodgate.batch.cancelled", cancelled)
            .SetTag("floodgate.batch.finished", finished);
        batch.Dispose();
    }

    /// <summary>Runs one item attempt (breaker, permits, call, release) in its span.</summary>
    internal static Task<T> InItemAttemptAsync<T>(ItemWork work, Func<Task<T>> attempt) =>
        RunAsync(ItemAttemptSpan, ActivityKind.Internal, work, attempt);

    /// <summary>Runs the wait for every global permit of an attempt in its span.</summary>
    internal static Task<T> InPermitWaitAsync<T>(ItemWork work, Func<Task<T>> acquire) =>
        RunAsync(PermitWaitSpan, ActivityKind.Internal, work, acquire, activity => activity.SetTag("floodgate.limiters", string.Join(",", work.Limiters)));

    /// <summary>Runs the processor's upstream call in its span (a client span: the call leaves the cluster).</summary>
    internal static Task<T> InUpstreamCallAsync<T>(ItemWork work, int attempt, Func<Task<T>> call) =>
        RunAsync(UpstreamCallSpan, ActivityKind.Client, work, call, activity => activity.SetTag("floodgate.item.attempt", attempt));

    private static Task<T> RunAsync<T>(string name, ActivityKind kind, ItemWork work, Func<Task<T>> run, Action<Activity>? tag = null) =>
        // Without a listener no span starts: no wrapper either (three per attempt, on the hot path of every item). The
        // start-up warm-up makes none.
        Source.HasListeners() && !WarmUpNames.IsWarmUp(work.BatchId) ? RunInSpanAsync(name, kind, work, run, tag) : run();

    private static async Task<T> RunInSpanAsync<T>(string name, ActivityKind kind, ItemWork work, Func<Task<T>> run, Action<Activity>? tag)
    {
        // Started here, in an async method: the span is current for the work it wraps and no longer once this returns.
        using var activity = Source.StartActivity(name, kind);
        if (activity is null)
        {
            return await run();
        }

        activity.SetTag("floodgate.batch.id", work.BatchId)
            .SetTag("floodgate.item.position", work.Position)
            .SetTag("floodgate.processor", work.Processor);
        tag?.Invoke(activity);
        try
        {
            return await run();
        }
        catch (Exception ex)
        {
            // The type only: messages of upstream failures are not for a trace store.
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity.SetTag("error.type", ex.GetType().FullName);
            throw;
        }
    }

    /// <summary>Restores the previous <see cref="Activity.Current"/> when disposed.</summary>
    internal readonly struct Scope : IDisposable
    {
        private readonly Activity? _previous;
        private readonly bool _entered;

        public Scope(Activity? activity)
        {
            _previous = Activity.Current;
            _entered = activity is not null;
            if (_entered)
            {
                Activity.Current = activity;
            }
        }

        public void Dispose()
        {
            if (_entered)
            {
                Activity.Current = _previous;
            }
        }
    }
}
