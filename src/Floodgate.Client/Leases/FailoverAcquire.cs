using Floodgate.Limiting;
using Polly;
using Polly.Retry;

namespace Floodgate.Client.Leases;

/// <summary>
/// One acquire that rides through a limiter moving (silo shutdown, crash, migration): the same request id is sent again
/// after a cluster fault or a "moved" answer, so a grant whose answer was lost is found again rather than taken twice.
/// How long and where the attempts are repeated is the caller's <see cref="AcquireRetry"/>: the SDK's own for up to
/// <see cref="FloodgateClientOptions.FailoverRetryTimeout"/> (or the wait, if longer), an item's under its cluster pipeline.
/// If the caller gives up or the faults outlast the retry, the acquire is undone by its request id, so no grant in transit
/// is left without a holder.
/// </summary>
internal sealed class FailoverAcquire
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);
    private static readonly ResiliencePropertyKey<DateTimeOffset> GiveUpAt = new("floodgate.acquire-give-up-at");

    private readonly TimeProvider _time;
    private readonly AcquireRetry _retry;

    /// <summary>
    /// The SDK's: attempts are repeated after cluster faults and "moved"/"unavailable" answers for up to
    /// <paramref name="failoverRetryTimeout"/> (or the wait, if longer); then the last answer comes back or the last fault
    /// is thrown.
    /// </summary>
    public FailoverAcquire(TimeProvider time, TimeSpan failoverRetryTimeout)
        : this(time, ClientRetry(time, failoverRetryTimeout))
    {
    }

    /// <summary>With the caller's own repetition of the attempts (inside a silo: an item's cluster pipeline).</summary>
    public FailoverAcquire(TimeProvider time, AcquireRetry retry)
    {
        _time = time;
        _retry = retry;
    }

    /// <summary>Acquires with <paramref name="request"/> (given a request id if it has none) through cluster faults.</summary>
    public async Task<AcquireResult> AcquireAsync(IGlobalLimiterGrain limiter, AcquireRequest request, CancellationToken cancellationToken)
    {
        var withId = request.RequestId is null ? request with { RequestId = AcquireRequest.NewRequestId() } : request;
        var waitUntil = _time.GetUtcNow() + withId.WaitTimeout;
        try
        {
            return await _retry(
                limiter,
                ct =>
                {
                    // A retry waits only for what is left of the caller's wait (an invalid wait is the limiter's to refuse).
                    var left = waitUntil - _time.GetUtcNow();
                    var attempt = withId.WaitTimeout <= TimeSpan.Zero ? withId
                        : withId with { WaitTimeout = left > TimeSpan.Zero ? left : TimeSpan.Zero };
                    return limiter.AcquireWaitingAsync(attempt, _time, ct);
                },
                withId.WaitTimeout,
                cancellationToken);
        }
        catch (Exception ex) when (ex is not Validation.FloodgateValidationException)
        {
            // Cancelled, or the answer was lost for good: a grant may be on its way back to nobody. Undo it by request id.
            // If the limiter stays unreachable, a grant that did happen ends by its TTL.
            _ = ClusterFaults.RetryAsync(() => limiter.CancelAcquireAsync(withId.RequestId!), LimiterLease.ReleaseRetryLimit, _time);
            throw;
        }
    }

    private static AcquireRetry ClientRetry(TimeProvider time, TimeSpan failoverRetryTimeout)
    {
        var pipeline = new ResiliencePipelineBuilder<AcquireResult> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<AcquireResult>
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = FirstDelay,
                MaxDelay = MaxDelay,
                UseJitter = true,
                ShouldHandle = args =>
                {
                    var transient = args.Outcome.Exception is { } ex ? ClusterFaults.IsTransient(ex) : ClusterFaults.IsTransient(args.Outcome.Result!);
                    return ValueTask.FromResult(transient && time.GetUtcNow() < args.Context.Properties.GetValue(GiveUpAt, DateTimeOffset.MinValue));
                },
            })
            .Build();

        return async (_, attempt, wait, cancellationToken) =>
        {
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(GiveUpAt, time.GetUtcNow() + (wait > failoverRetryTimeout ? wait : failoverRetryTimeout));
            try
            {
                return await pipeline.ExecuteAsync(static async (ctx, attempt) => await attempt(ctx.CancellationToken), context, attempt);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        };
    }
}

/// <summary>
/// Repeats the attempts of one acquire on <paramref name="limiter"/> (each sends the same request id with what is left of
/// the wait) after cluster faults and "moved"/"unavailable" answers (<see cref="ClusterFaults"/>), as the caller's failover
/// policy says; returns the final answer or throws the final fault. <paramref name="wait"/> is the acquire's whole wait.
/// </summary>
internal delegate Task<AcquireResult> AcquireRetry(
    IGlobalLimiterGrain limiter, Func<CancellationToken, Task<AcquireResult>> attempt, TimeSpan wait, CancellationToken cancellationToken);
