using System.Globalization;
using System.Runtime;
using Floodgate.Batches;
using Floodgate.Grains.Limiting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;

namespace Floodgate.Grains.WarmUp;

/// <summary>
/// Runs the real item path — batch → items → breaker → limiter → echo processor → outcomes, results read back — on a
/// private batch until the JIT has compiled it, so that the first real batch on a fresh silo runs as fast as later ones.
/// <para>It works in rounds: each appends a few chunks of echo items to one open batch, waits for their outcomes, reads
/// them back, then waits for the JIT to go quiet (methods that became hot are re-compiled, optimized, in the background;
/// with tiered PGO in two steps, each after more calls). It stops once a round compiles only a small fraction of what
/// the first one did — the rest is a tail of rarely called methods — or after <see cref="WarmUpPlan.MaxRounds"/>.</para>
/// <para>It leaves no trace: its names (<see cref="WarmUpNames"/>) keep it out of the list of batches, the catalogs, metrics
/// and spans; its limiter is its own (no real limiter's permit is ever taken); every grain it activates is placed on this
/// silo; and at the end its batch is discarded (records, chunks and reminders deleted) and its limiter retired (record
/// deleted) — also when it fails or is cancelled.</para>
/// </summary>
public sealed partial class SiloWarmUp
{
    private readonly IGrainFactory _grains;
    private readonly ILocalSiloDetails _silo;
    private readonly TimeProvider _time;
    private readonly CompilationQuiet _jit;
    private readonly TimeSpan _maxQuietWait;
    private readonly ILogger<SiloWarmUp> _logger;

    public SiloWarmUp(IGrainFactory grains, ILocalSiloDetails silo, TimeProvider time, ILogger<SiloWarmUp> logger)
        : this(grains, silo, time, logger, () => JitInfo.GetCompiledMethodCount(), WarmUpConstants.MaxQuietWait)
    {
    }

    /// <summary>With the JIT's count of compiled methods and the longest wait for it to go quiet given (tests).</summary>
    internal SiloWarmUp(
        IGrainFactory grains, ILocalSiloDetails silo, TimeProvider time, ILogger<SiloWarmUp> logger, Func<long> compiledMethods, TimeSpan maxQuietWait)
    {
        _grains = grains;
        _silo = silo;
        _time = time;
        _logger = logger;
        _jit = new CompilationQuiet(compiledMethods, time);
        _maxQuietWait = maxQuietWait;
    }

    /// <summary>
    /// Runs the warm-up under <paramref name="plan"/> until it settles, <paramref name="cancellationToken"/> fires (the silo
    /// stops, or the caller's time budget ran out) or a round fails; then erases it. Throws what a round threw, after erasing.
    /// <paramref name="afterRound"/>, when given, runs after each round's items have their outcomes (before the JIT wait),
    /// while the batch is still there to be read.
    /// </summary>
    public async Task<WarmUpResult> RunAsync(
        WarmUpPlan plan, CancellationToken cancellationToken, Func<WarmUpRound, CancellationToken, Task>? afterRound = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var name = WarmUpNames.NewRun();
        var compiledAtStart = _jit.CompiledMethods;
        var batch = _grains.GetGrain<IBatchGrain>(name);
        var previousHint = RequestContext.Get(IPlacementDirector.PlacementHintKey);

        // Every grain the warm-up activates (batch, items, limiter, breaker) lands on this silo: the point is to warm this
        // process, and a silo joining a running cluster must not load the others with it. The hint rides along the calls.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, _silo.SiloAddress);
        var rounds = 0;
        var items = 0;
        var settled = false;
        long? firstRound = null;
        bool erased;
        try
        {
            var definition = new BatchDefinition
            {
                Processor = WarmUpConstants.Processor,
                Limiter = name,
                LocalLimit = plan.Concurrency,
                GlobalLimit = plan.Concurrency,
            };
            var open = await batch.OpenAsync(definition, uploadId: name);
            var chunksPerRound = Math.Max(1, (plan.ItemsPerRound + open.ChunkSize - 1) / open.ChunkSize);
            var version = open.Progress.Version;
            while (rounds < plan.MaxRounds && !settled)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var started = _time.GetTimestamp();
                var compiledBefore = _jit.CompiledMethods;
                var first = items;
                for (var chunk = 0; chunk < chunksPerRound; chunk++)
                {
                    var chunkItems = Enumerable.Range(items, open.ChunkSize).Select(Item).ToList();
                    await batch.AppendItemsAsync(name, items / open.ChunkSize, chunkItems, last: false);
                    items += chunkItems.Count;
                }

                version = await WaitForOutcomesAsync(batch, items, version, cancellationToken);
                await ReadBackAsync(batch, first, items, cancellationToken);
                if (afterRound is not null)
                {
                    await afterRound(new WarmUpRound(name, first, items - first), cancellationToken);
                }

                var worked = _time.GetElapsedTime(started);

                // Pausing matters: the runtime starts counting calls towards tier-up only after a short time without new
                // compilations, and the background compiler catches up meanwhile.
                await _jit.WaitAsync(_maxQuietWait, cancellationToken);
                rounds++;
                var compiled = _jit.CompiledMethods - compiledBefore;
                firstRound ??= compiled;
                settled = rounds > 1 && compiled < Math.Max(WarmUpConstants.SettledBelow, firstRound.Value * WarmUpConstants.SettledFraction);
                LogRound(rounds, items - first, (long)worked.TotalMilliseconds, (long)_time.GetElapsedTime(started).TotalMilliseconds, compiled);
            }
        }
        finally
        {
            erased = await EraseAsync(batch, name);
            if (previousHint is null)
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
            else
            {
                RequestContext.Set(IPlacementDirector.PlacementHintKey, previousHint);
            }
        }

        return new WarmUpResult(name, rounds, items, _jit.CompiledMethods - compiledAtStart, settled, erased);
    }

    /// <summary>An echo item: a small JSON object, so the item is parsed and written back like a real one.</summary>
    private static string Item(int position) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"text":"warm-up item","position":{{position}}}""");

    /// <summary>Waits until the batch has an outcome for each of its <paramref name="items"/>; the progress version seen last.</summary>
    private async Task<long> WaitForOutcomesAsync(IBatchGrain batch, int items, long version, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var progress = await batch.WaitForProgressAsync(version, WarmUpConstants.ProgressPoll, cancellationToken);
            if (progress.Failed + progress.Cancelled > 0)
            {
                throw new InvalidOperationException(
                    $"The warm-up's echo items did not all succeed ({progress.Failed} failed, {progress.Cancelled} cancelled).");
            }

            if (progress.Succeeded >= items)
            {
                return progress.Version;
            }

            version = progress.Version;
        }
    }

    /// <summary>Reads the round's outcomes back in order, as a client streaming results does.</summary>
    private static async Task ReadBackAsync(IBatchGrain batch, int from, int to, CancellationToken cancellationToken)
    {
        while (from < to)
        {
            var page = await batch.ReadResultsAsync(from, to - from, WarmUpConstants.ProgressPoll, cancellationToken);
            from = page.NextPosition;
        }
    }

    /// <summary>
    /// Discards the batch (its records, chunks and reminders are deleted; items still in flight are cancelled) and retires
    /// the limiter once its leases are back. True when both are gone; never throws (the silo runs on either way). Also after
    /// a failed open: the open may have been done, only its answer lost, and discarding a batch that does not exist does nothing.
    /// </summary>
    private async Task<bool> EraseAsync(IBatchGrain batch, string name)
    {
        using var timeout = new CancellationTokenSource(WarmUpConstants.EraseTimeout, _time);
        try
        {
            await batch.AbortUploadAsync(name).WaitAsync(timeout.Token);

            // Items release their leases before they report, but each release is its own call: ask until the limiter is idle.
            var limiter = _grains.GetGrain<ILimiterRetirement>(name);
            while (!await limiter.RetireAsync().WaitAsync(timeout.Token))
            {
                await Task.Delay(WarmUpConstants.RetireRetryDelay, _time, timeout.Token);
            }

            return true;
        }
        catch (Exception ex)
        {
            LogEraseFailed(ex, name);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Warm-up round {Round}: {Items} items in {WorkMs} ms, {TotalMs} ms with the JIT's catch-up; {Compiled} methods compiled")]
    private partial void LogRound(int round, int items, long workMs, long totalMs, long compiled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-up: its batch or limiter {Name} could not be erased; records under that name may remain in storage")]
    private partial void LogEraseFailed(Exception ex, string name);
}
