using Floodgate.Grains.Processors;
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
/// <see cref="Reporting"/> = retries of the outcome report to the batch during a silo failover.
/// </summary>
internal sealed class ItemPipelines
{
    public ItemPipelines(IOptions<ItemProcessingOptions> options, TimeProvider time)
    {
        var o = options.Value;
        Options = o;
        Item = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(o.TotalTimeout)
            .AddRetry(new RetryStrategyOptions
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
            })
            .Build();

        Attempt = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(o.AttemptTimeout)
            .Build();

        Reporting = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = 8,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(5),
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            })
            .Build();
    }

    public ItemProcessingOptions Options { get; }

    public ResiliencePipeline Item { get; }

    public ResiliencePipeline Attempt { get; }

    public ResiliencePipeline Reporting { get; }

    private static TimeSpan? Cap(TimeSpan wait, TimeSpan max) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > max ? max : wait;
}
