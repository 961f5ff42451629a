namespace Floodgate.Limiting;

/// <summary>The one way to acquire from a <see cref="IGlobalLimiterGrain"/> with a wait: used by items, the SDK and the adapters.</summary>
public static class LimiterAcquireExtensions
{
    /// <summary>
    /// Acquires with <paramref name="request"/>, waiting up to its <see cref="AcquireRequest.WaitTimeout"/>. The limiter
    /// answers a long wait in slices (<see cref="AcquireFailure.Queued"/>); each slice is followed at once by another
    /// call with the same request id, which keeps the waiter's place in the queue. Returns the first other answer.
    /// Cluster faults are not handled here: callers retry the whole call with the same request id.
    /// </summary>
    public static async Task<AcquireResult> AcquireWaitingAsync(
        this IGlobalLimiterGrain limiter, AcquireRequest request, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(time);
        var waitUntil = time.GetUtcNow() + request.WaitTimeout;
        var attempt = request;
        while (true)
        {
            var result = await limiter.AcquireAsync(attempt, cancellationToken).ConfigureAwait(false);
            if (result.Failure != AcquireFailure.Queued)
            {
                return result;
            }

            var left = waitUntil - time.GetUtcNow();
            attempt = attempt with
            {
                RequestId = result.RequestId ?? attempt.RequestId,
                WaitTimeout = left > TimeSpan.Zero ? left : TimeSpan.Zero,
            };
        }
    }
}
