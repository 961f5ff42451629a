using Floodgate.Client.Leases;
using Floodgate.Client.References;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.Processors;
using Floodgate.Limiting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Floodgate.Grains.Items;

/// <summary>Counters one item's processing accumulates across its attempts.</summary>
internal sealed class AttemptCounters
{
    public static readonly ResiliencePropertyKey<AttemptCounters> Key = new("floodgate.attempts");

    public int Attempts;
    public int Retries;
    public int RateLimitHits;
    public int BreakerRejections;
}

/// <summary>
/// The Polly v8 pipelines items run under, built once from <see cref="ItemProcessingOptions"/>:
/// <see cref="Item"/> = total timeout → retry (exponential backoff + jitter, honouring Retry-After and open circuits);
/// <see cref="Attempt"/> = the per-call timeout, applied only around the upstream call (not around permit waits);
/// <see cref="Reporting"/> = retries of the outcome report to the batch during a silo failover (as long as cluster calls);
/// <see cref="Cluster"/> = retries of limiter and breaker calls through cluster faults (a silo dying or stopping, a limiter
/// moving), bounded by <see cref="ItemProcessingOptions.ClusterRetryTimeout"/>, so no item fails because a silo died;
/// <see cref="Permits"/> = how an attempt holds its limiters' permits with <see cref="LimiterLeaseSet"/>.
/// </summary>
internal sealed class ItemPipelines
{
    /// <param name="options">The items' options.</param>
    /// <param name="limiters">The limiters' options (the lease TTLs a limiter accepts).</param>
    /// <param name="time">The clock of every delay and timeout.</param>
    /// <param name="references">The silo's kept grain references (limiters are looked up per attempt); null: plain GetGrain.</param>
    /// <param name="releases">The silo's grouped lease releases; null: one release call per lease.</param>
    public ItemPipelines(
        IOptions<ItemProcessingOptions> options, IOptions<LimiterOptions> limiters, TimeProvider time, GrainReferences? references = null, LeaseReleases? releases = null)
    {
        var o = options.Value;
        Options = o;
        LeaseTtl = LeaseTtlFor(o.AttemptTimeout, limiters.Value);
        var item = new ResiliencePipelineBuilder { TimeProvider = time }.AddTimeout(o.TotalTimeout);
        if (o.MaxRetryAttempts > 0)
        {
            // Polly needs at least one retry; zero retries means no retry strategy at all.
            item.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = o.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = o.UseJitter,
                Delay = o.BaseDelay,
                MaxDelay = o.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && ItemFailures.IsTransient(ex)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    UpstreamException { RetryAfter: { } wait } => Cap(wait, o.MaxRetryAfter),
                    CircuitOpenException open => Cap(open.RetryAfter, o.MaxRetryAfter),
                    _ => (TimeSpan?)null,
                }),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(AttemptCounters.Key, out var counters))
                    {
                        counters.Retries++;
                    }

                    return ValueTask.CompletedTask;
                },
            });
        }

        Item = item.Build();

        // No timeout strategy here: it would cut legitimate permit waits. Faults are retried until the first one is
        // ClusterRetryTimeout old.
        Cluster = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(RetryFor(ItemFailures.IsClusterFault, o.ClusterRetryTimeout, ItemProcessingConstants.ClusterRetryDelay, time))
            .Build();

        Attempt = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(o.AttemptTimeout)
            .Build();

        // A batch that lost its activation comes back on another silo (failure detection, or its reminder): keep
        // reporting for as long as limiter and breaker calls are retried, so the outcome is not run again for nothing.
        Reporting = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(RetryFor(ex => ex is not OperationCanceledException, o.ClusterRetryTimeout, ItemProcessingConstants.ReportRetryDelay, time))
            .Build();

        Permits = new LeaseSetPolicy
        {
            Limiter = references is null
                ? static (grains, name) => grains.GetGrain<IGlobalLimiterGrain>(name)
                : (_, name) => references.Shared<IGlobalLimiterGrain>(name),
            Acquire = new FailoverAcquire(time, RetryAcquireAsync),
            Release = releases is null ? LeaseSetPolicy.ReleaseEach : releases.ReleaseAsync,
            ConfirmRetry = (confirm, cancellationToken) => RunClusterCallAsync(ct => new ValueTask<bool>(confirm(ct)), cancellationToken).AsTask(),
            // Every lease must outlive the call it guards (renewals then keep it for longer calls).
            RequiredTtl = o.AttemptTimeout,
            NotGranted = static (limiter, result) => new PermitUnavailableException(result.Reason ?? $"No permit of '{limiter}' was granted."),
            Lost = static limiter => new PermitLostException(limiter),
        };
    }

    public ItemProcessingOptions Options { get; }

    /// <summary>
    /// The TTL of an item's leases: its call's longest run (the attempt timeout) plus
    /// <see cref="ItemProcessingConstants.LeaseMargin"/>, within what limiters accept and at most their default TTL.
    /// Renewed while the item holds it; when the item's silo dies, the permit comes back within this of the last renewal,
    /// once the call that may still be running at the provider must have ended.
    /// </summary>
    public TimeSpan LeaseTtl { get; }

    /// <summary>The item lease TTL for <paramref name="attemptTimeout"/> under <paramref name="limiters"/> (see <see cref="LeaseTtl"/>).</summary>
    public static TimeSpan LeaseTtlFor(TimeSpan attemptTimeout, LimiterOptions limiters)
    {
        var wanted = attemptTimeout + ItemProcessingConstants.LeaseMargin;
        return wanted > limiters.DefaultLeaseTtl ? limiters.DefaultLeaseTtl : wanted < limiters.MinLeaseTtl ? limiters.MinLeaseTtl : wanted;
    }

    public ResiliencePipeline Item { get; }

    public ResiliencePipeline Attempt { get; }

    public ResiliencePipeline Reporting { get; }

    public ResiliencePipeline Cluster { get; }

    /// <summary>
    /// How an attempt acquires and confirms its permits with <see cref="LimiterLeaseSet"/>: limiter calls under
    /// <see cref="Cluster"/> on the grain's scheduler, leases that outlive the attempt timeout, and what it throws
    /// (<see cref="PermitUnavailableException"/> is final, <see cref="PermitLostException"/> is retried).
    /// </summary>
    public LeaseSetPolicy Permits { get; }

    private static readonly ResiliencePropertyKey<DateTimeOffset> FirstFailureAt = new("floodgate.first-failure-at");

    /// <summary>
    /// Runs a limiter or breaker call under <see cref="Cluster"/>, resuming on the caller's scheduler (inside a grain, its
    /// activation: grain calls must be made from there).
    /// </summary>
    public async ValueTask<T> RunClusterCallAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            // The first try outside the pipeline: nearly every call succeeds, and Polly's machinery is not free per item.
            return await call(cancellationToken);
        }
        catch (Exception ex) when (ItemFailures.IsClusterFault(ex) && !cancellationToken.IsCancellationRequested)
        {
            // A fault: retried under the pipeline, whose budget counts from here.
        }

        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
        try
        {
            return await Cluster.ExecuteAsync(static (ctx, call) => call(ctx.CancellationToken), context, call);
        }
        catch (Exception ex) when (ItemFailures.IsClusterFault(ex))
        {
            throw new ClusterUnavailableException("a limiter or breaker", ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>An acquire's attempts under <see cref="Cluster"/>: a "moved"/"unavailable" answer is retried like a fault.</summary>
    private Task<AcquireResult> RetryAcquireAsync(
        IGlobalLimiterGrain limiter, Func<CancellationToken, Task<AcquireResult>> attempt, TimeSpan wait, CancellationToken cancellationToken) =>
        RunClusterCallAsync(
            async ct =>
            {
                var answer = await attempt(ct);
                return ClusterFaults.IsTransient(answer) ? throw new LimiterMovedException(limiter.GetPrimaryKeyString()) : answer;
            },
            cancellationToken).AsTask();

    /// <summary>Retries what <paramref name="handles"/> accepts, with jittered backoff, until the first failure is <paramref name="budget"/> old.</summary>
    private static RetryStrategyOptions RetryFor(Func<Exception, bool> handles, TimeSpan budget, TimeSpan firstDelay, TimeProvider time) => new()
    {
        MaxRetryAttempts = int.MaxValue,
        BackoffType = DelayBackoffType.Exponential,
        Delay = firstDelay,
        MaxDelay = ItemProcessingConstants.ClusterRetryMaxDelay,
        UseJitter = true,
        ShouldHandle = args =>
        {
            if (args.Outcome.Exception is not { } ex || !handles(ex))
            {
                return ValueTask.FromResult(false);
            }

            var now = time.GetUtcNow();
            if (!args.Context.Properties.TryGetValue(FirstFailureAt, out var first))
            {
                args.Context.Properties.Set(FirstFailureAt, now);
                first = now;
            }

            return ValueTask.FromResult(now - first < budget);
        },
    };

    private static TimeSpan? Cap(TimeSpan wait, TimeSpan max) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > max ? max : wait;
}
