using Floodgate.Limiting;
using Polly;
using Polly.Retry;

namespace Floodgate.Client.Leases;

/// <summary>
/// One acquire that rides through a limiter moving (silo shutdown, crash, migration): the same request id is sent again
/// after a cluster fault or a "moved" answer, so a grant whose answer was lost is found again rather than taken twice,
/// for up to <see cref="FloodgateClientOptions.FailoverRetryTimeout"/> (or the wait, if longer). If the caller gives up
/// or the faults outlast that, the acquire is undone by its request id, so no grant in transit is left without a holder.
/// </summary>
internal sealed class FailoverAcquire
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);
    private static readonly ResiliencePropertyKey<DateTimeOffset> GiveUpAt = new("floodgate.acquire-give-up-at");

    private readonly ResiliencePipeline<AcquireResult> _pipeline;
    private readonly TimeProvider _time;
    private readonly TimeSpan _failoverRetryTimeout;

    public FailoverAcquire(TimeProvider time, TimeSpan failoverRetryTimeout)
    {
        _time = time;
        _failoverRetryTimeout = failoverRetryTimeout;
        _pipeline = new ResiliencePipelineBuilder<AcquireResult> { TimeProvider = time }
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
                    return ValueTask.FromResult(transient && _time.GetUtcNow() < args.Context.Properties.GetValue(GiveUpAt, DateTimeOffset.MinValue));
                },
            })
            .Build();
    }

    /// <summary>Acquires with <paramref name="request"/> (given a request id if it has none) through cluster faults.</summary>
    public async Task<AcquireResult> AcquireAsync(IGlobalLimiterGrain limiter, AcquireRequest request, CancellationToken cancellationToken)
    {
        var withId = request.RequestId is null ? request with { RequestId = AcquireRequest.NewRequestId() } : request;
        var start = _time.GetUtcNow();
        var waitUntil = start + withId.WaitTimeout;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(GiveUpAt, start + (withId.WaitTimeout > _failoverRetryTimeout ? withId.WaitTimeout : _failoverRetryTimeout));
        try
        {
            return await _pipeline.ExecuteAsync(
                async (ctx, state) =>
                {
                    // A retry waits only for what is left of the caller's wait (an invalid wait is the limiter's to refuse).
                    var left = state.WaitUntil - _time.GetUtcNow();
                    var attempt = state.Request.WaitTimeout <= TimeSpan.Zero ? state.Request
                        : state.Request with { WaitTimeout = left > TimeSpan.Zero ? left : TimeSpan.Zero };
                    return await state.Limiter.AcquireWaitingAsync(attempt, _time, ctx.CancellationToken);
                },
                context,
                (Limiter: limiter, Request: withId, WaitUntil: waitUntil));
        }
        catch (Exception ex) when (ex is not Validation.FloodgateValidationException)
        {
            // Cancelled, or the answer was lost for good: a grant may be on its way back to nobody. Undo it by request id.
            // If the limiter stays unreachable, a grant that did happen ends by its TTL.
            _ = ClusterFaults.RetryAsync(() => limiter.CancelAcquireAsync(withId.RequestId!), LimiterLease.ReleaseRetryLimit, _time);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
