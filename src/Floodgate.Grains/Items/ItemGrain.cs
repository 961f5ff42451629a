using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client.Leases;
using Floodgate.Client.References;
using Floodgate.Grains.Batches;
using Floodgate.Grains.Breakers;
using Floodgate.Grains.Caching;
using Floodgate.Grains.Draining;
using Floodgate.Grains.Processors;
using Floodgate.Grains.Telemetry;
using Floodgate.Limiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Floodgate.Grains.Items;

/// <summary>
/// Runs the items of one lane of a batch (<see cref="ItemLanes"/>), side by side, each on its own: for each attempt, ask the
/// shared breaker (an open circuit holds no permit) → acquire a global lease → call the processor under the attempt
/// timeout → report to the breaker → release the lease; retries and the total timeout come from <see cref="ItemPipelines"/>.
/// Each item's single outcome goes to the batch. <see cref="StartAsync"/> returns at once so the batch never waits on an
/// item (no call cycle batch ↔ item). The activation stays while items run and goes once the lane has been idle for a
/// while (<see cref="ItemProcessingConstants.LaneIdleCheck"/>).
/// Placed at random: a batch's lanes spread over the silos instead of gathering near the batch, so one silo's crash
/// takes only its share of the permits with it (those stay counted until their TTL: their calls may still be running).
/// </summary>
[Orleans.Placement.RandomPlacement]
internal sealed partial class ItemGrain(
    ProcessorRegistry processors,
    ItemPipelines pipelines,
    ItemRuns runs,
    ItemResultCache cache,
    GrainReferences references,
    LocalBreakerViews breakerViews,
    OutcomeReports outcomes,
    IOptions<CircuitBreakerOptions> breakerOptions,
    TimeProvider time,
    FloodgateMetrics metrics,
    ILogger<ItemGrain> logger) : Grain, IItemGrain
{
    private readonly ItemLane _lane = new();
    private readonly CancellationTokenSource _deactivating = new();
    private TaskScheduler _activationScheduler = TaskScheduler.Default;
    private bool _interrupted;
    private bool _retiring;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activationScheduler = TaskScheduler.Current;

        // Runs are not requests: idle collection would end the activation under them. The lane ends itself once idle;
        // OnDeactivateAsync stops the runs when it ends for other reasons.
        DelayDeactivation(TimeSpan.MaxValue);
        var idleCheck = ItemProcessingConstants.LaneIdleCheck;
        this.RegisterGrainTimer(RetireIfIdle, new GrainTimerCreationOptions { DueTime = idleCheck, Period = idleCheck, Interleave = true });
        return Task.CompletedTask;
    }

    public Task StartAsync(ItemWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_lane.IsRunning(work.Position))
        {
            // A repeated start (batch recovering after a loss) must not run the item twice at once in this activation.
            return Task.CompletedTask;
        }

        if (!runs.Accepting)
        {
            // This silo drains: the batch starts the item again under the lane's next epoch (a new activation, placed
            // anew). This one goes as soon as its runs have finished (the drain lets them).
            _retiring = true;
            RetireWhenEmpty();
            throw new SiloStoppingException();
        }

        if (_lane.TryStart(work) is { } run)
        {
            run.Completion = RunAsync(run);
        }

        return Task.CompletedTask;
    }

    public Task<bool> CancelAsync(int position) => Task.FromResult(_lane.Cancel(position));

    public Task<bool> IsRunningAsync(int position) => Task.FromResult(_lane.IsRunning(position));

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_lane.Count == 0)
        {
            return;
        }

        // Stop the runs before this activation goes, so that a new activation never overlaps them; the batch runs them again.
        _interrupted = true;
        var running = _lane.Runs.ToList();
        LogInterrupting(this.GetPrimaryKeyString(), running.Count, reason.Description);
        foreach (var run in running)
        {
            run.Cancel();
        }

        await _deactivating.CancelAsync();
        try
        {
            await Task.WhenAll(running.Select(r => r.Completion)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            LogRunsOutlivedActivation(this.GetPrimaryKeyString(), _lane.Count);
        }
    }

    private Task RetireIfIdle()
    {
        if (_lane.IdleSinceLastLook())
        {
            DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    private void RetireWhenEmpty()
    {
        if (_retiring && _lane.Count == 0)
        {
            DeactivateOnIdle();
        }
    }

    private async Task RunAsync(ItemRun run)
    {
        // On the activation's scheduler throughout: every await below resumes there.
        var work = run.Work;
        var cancellationToken = run.CancellationToken;

        // Counted until its outcome is reported, so a stopping silo can let it finish (SiloDrain).
        using var counted = runs.Start();
        var started = time.GetTimestamp();
        var counters = new AttemptCounters();
        ItemOutcome? outcome = null;
        try
        {
            outcome = await ProcessAsync(work, counters, cancellationToken);
        }
        catch (Exception) when (_interrupted)
        {
            // Stopped by deactivation (silo shutdown, rebalancing): not the item's outcome.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = ItemOutcome.Cancelled(work.Position, counters.Attempts);
        }
        catch (Exception ex)
        {
            outcome = ItemOutcome.Failed(work.Position, ItemFailures.Describe(ex, pipelines.Options.AttemptTimeout), counters.Attempts);
            LogItemFailed(work.BatchId, work.Position, counters.Attempts, outcome.Error);
        }

        try
        {
            if (outcome is null)
            {
                // One try: the activation is going away; a batch that does not hear it probes the item and finds it idle.
                await OnActivation(() => references.Shared<IBatchItemEvents>(work.BatchId).ReportInterruptedAsync(work.Position));
            }
            else
            {
                var report = new ItemReport(outcome, counters.Retries, counters.RateLimitHits, counters.BreakerRejections, time.GetElapsedTime(started));
                metrics.ItemFinished(work.BatchId, work.Processor, report);
                if (_interrupted)
                {
                    // The activation is going away (silo stopping): one try, so the shutdown is not held up; a batch that
                    // does not hear it probes the item, finds it idle and runs it again.
                    await outcomes.SendAsync(work.BatchId, report);
                }
                else
                {
                    await pipelines.Reporting.ExecuteAsync(async _ => await outcomes.SendAsync(work.BatchId, report), CancellationToken.None);
                }
            }
        }
        catch (Exception ex)
        {
            // The batch probes items in flight and runs again those that are idle, so the item is not lost.
            LogReportFailed(ex, work.BatchId, work.Position);
        }
        finally
        {
            _lane.Finish(run);
            RetireWhenEmpty();
        }
    }

    private async Task<ItemOutcome> ProcessAsync(ItemWork work, AttemptCounters counters, CancellationToken cancellationToken)
    {
        if (!processors.TryGet(work.Processor, out var processor))
        {
            return ItemOutcome.Failed(work.Position, processors.CheckKnown(work.Processor)!, 0);
        }

        // With the batch's cache option, an identical item elsewhere in the cluster may compute the result for this one.
        var (result, cached) = await cache.RunAsync(work, () => RunPipelineAsync(work, processor, counters, cancellationToken), cancellationToken);
        return ItemOutcome.Succeeded(work.Position, result, counters.Attempts) with { Cached = cached };
    }

    private async Task<string> RunPipelineAsync(ItemWork work, IItemProcessor processor, AttemptCounters counters, CancellationToken cancellationToken)
    {
        using var item = JsonDocument.Parse(work.ItemJson);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(AttemptCounters.Key, counters);
        try
        {
            var result = await pipelines.Item.ExecuteAsync(
                static async (ctx, state) => await state.Self.OnActivation(() => FloodgateTracing.InItemAttemptAsync(
                    state.Work, () => state.Self.AttemptAsync(state.Work, state.Processor, state.Item, state.Counters, ctx.CancellationToken))),
                context,
                (Self: this, Work: work, Processor: processor, Item: item.RootElement, Counters: counters));
            return result.GetRawText();
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<JsonElement> AttemptAsync(
        ItemWork work, IItemProcessor processor, JsonElement item, AttemptCounters counters, CancellationToken cancellationToken)
    {
        var breaker = references.Shared<IBreakerViews>(work.Breaker);
        var decision = breakerViews.IsKnownClosed(work.Breaker)
            ? BreakerDecision.Pass
            : await pipelines.RunClusterCallAsync(async _ => Learn(work.Breaker, await breaker.TryPassWithViewAsync()), cancellationToken);
        if (!decision.Allowed)
        {
            counters.BreakerRejections++;
            throw new CircuitOpenException(work.Breaker, decision.RetryAfter);
        }

        var breakerResult = CallResult.Ignored;
        var reported = false;
        try
        {
            var permitTimeout = work.PermitTimeout ?? pipelines.Options.AcquireTimeout;
            if (decision.IsProbe)
            {
                // The probe slot is ours until our report: wait for permits only as long as the breaker keeps it for us.
                var probeWait = breakerOptions.Value.ProbeTimeout - pipelines.Options.AttemptTimeout;
                permitTimeout = permitTimeout < probeWait ? permitTimeout : probeWait;
            }

            // One permit of each limiter of the batch, held by the batch; each lease outlives the attempt timeout by a margin.
            var admission = new LeaseSetRequest(work.Limiters) { WaitTimeout = permitTimeout, Priority = work.Priority };
            var permits = await FloodgateTracing.InPermitWaitAsync(
                work, () => LimiterLeaseSet.AcquireAsync(GrainFactory, admission, work.BatchId, pipelines.LeaseTtl, pipelines.Permits, time, cancellationToken));
            try
            {
                counters.Attempts++;
                var context = new ItemContext(work.BatchId, work.Position, counters.Attempts, work.ProcessorOptions);
                using var guarded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, permits.Lost);
                try
                {
                    var result = await pipelines.Attempt.ExecuteAsync(
                        async ct => await FloodgateTracing.InUpstreamCallAsync(work, context.Attempt, () => processor.ProcessAsync(context, item, ct)),
                        guarded.Token);
                    breakerResult = CallResult.Success;
                    return result;
                }
                catch (OperationCanceledException) when (permits.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // A lease was lost mid-call: its permit may be someone else's now, so the call was stopped.
                    throw new PermitLostException(string.Join(", ", work.Limiters));
                }
            }
            catch (Exception ex)
            {
                breakerResult = ItemFailures.ForBreaker(ex);
                if (ex is UpstreamException { IsRateLimited: true })
                {
                    counters.RateLimitHits++;
                }

                throw;
            }
            finally
            {
                reported = true;
                // Permits first: the next caller need not wait for the breaker.
                await permits.DisposeAsync();
                await ReportToBreakerAsync(breaker, work.Breaker, breakerResult, decision.IsProbe);
            }
        }
        catch (Exception) when (!reported && decision.IsProbe)
        {
            // The probe never reached the upstream: hand the probe slot back so another caller can probe.
            await ReportToBreakerAsync(breaker, work.Breaker, CallResult.Ignored, wasProbe: true);
            throw;
        }
    }

    private BreakerDecision Learn(string name, BreakerAnswer answer)
    {
        breakerViews.Learn(name, answer.View);
        return answer.Decision;
    }

    /// <summary>
    /// A lost report must neither keep the permits nor replace the call's real result. Results that change nothing (a
    /// success while the circuit is known closed with no failures counted) are not sent.
    /// </summary>
    private async Task ReportToBreakerAsync(IBreakerViews breaker, string name, CallResult result, bool wasProbe)
    {
        if (!breakerViews.MustReport(name, result, wasProbe))
        {
            return;
        }

        try
        {
            // Retried through a failover, but not past this activation's end: a stopping silo must not wait on it.
            await pipelines.RunClusterCallAsync(async _ =>
            {
                breakerViews.Learn(name, await breaker.ReportWithViewAsync(result, wasProbe));
                return true;
            }, _deactivating.Token);
        }
        catch (Exception ex)
        {
            LogBreakerReportFailed(ex, name);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on this activation's scheduler. Polly resumes after its delays on pool threads, and grain
    /// services (GrainFactory, grain calls as this grain) may only be used on the activation's own scheduler.
    /// </summary>
    private Task<T> OnActivation<T>(Func<Task<T>> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.None, _activationScheduler).Unwrap();

    private Task OnActivation(Func<Task> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.None, _activationScheduler).Unwrap();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report a call result to breaker {Breaker}")]
    private partial void LogBreakerReportFailed(Exception ex, string breaker);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Item {BatchId}/{Position} failed after {Attempts} attempt(s): {Error}")]
    private partial void LogItemFailed(string batchId, int position, int attempts, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Item {BatchId}/{Position} could not report its outcome")]
    private partial void LogReportFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Item lane {Lane}: activation going away ({Reason}); stopping its {Count} run(s) so that they run again elsewhere")]
    private partial void LogInterrupting(string lane, int count, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Item lane {Lane}: {Count} run(s) did not stop within the deactivation timeout")]
    private partial void LogRunsOutlivedActivation(string lane, int count);
}
