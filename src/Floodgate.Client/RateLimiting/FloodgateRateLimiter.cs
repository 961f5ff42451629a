using System.Threading.RateLimiting;
using Floodgate.Client.Leases;
using Floodgate.Limiting;

namespace Floodgate.Client.RateLimiting;

/// <summary>
/// A <see cref="RateLimiter"/> whose permits are leases of a Floodgate global limiter, so an <c>HttpClient</c>
/// resilience pipeline, Polly's <c>AddRateLimiter</c> or ASP.NET rate limiting share one account-wide count with every
/// other Floodgate client. Follows <see cref="ConcurrencyLimiter"/>'s contract: leases release exactly once, failed
/// leases carry <see cref="MetadataName.ReasonPhrase"/> and <see cref="MetadataName.RetryAfter"/>, a queue limit refuses
/// excess waiters at once, cancellation throws, and statistics count successes and failures. Queueing order is the
/// global limiter's (FIFO per holder, round-robin across holders).
/// </summary>
internal sealed class FloodgateRateLimiter : RateLimiter
{
    private readonly IGlobalLimiterGrain _limiter;
    private readonly string _name;
    private readonly FloodgateRateLimiterOptions _options;
    private readonly string _holder;
    private readonly TimeSpan _leaseTtl;
    private readonly TimeProvider _time;
    private long _successful;
    private long _failed;
    private int _queued;
    private int _held;
    private int _lastKnownAvailable;
    private long _idleSince;
    private int _disposed;

    public FloodgateRateLimiter(IGlobalLimiterGrain limiter, string name, FloodgateRateLimiterOptions options, string holder, TimeSpan leaseTtl, TimeProvider time)
    {
        _limiter = limiter;
        _name = name;
        _options = options;
        _holder = options.Holder ?? holder;
        _leaseTtl = leaseTtl;
        _time = time;
        _idleSince = time.GetTimestamp();
    }

    public override TimeSpan? IdleDuration =>
        Volatile.Read(ref _held) == 0 && Volatile.Read(ref _queued) == 0 ? _time.GetElapsedTime(Volatile.Read(ref _idleSince)) : null;

    public override RateLimiterStatistics? GetStatistics()
    {
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        return new RateLimiterStatistics
        {
            CurrentAvailablePermits = Volatile.Read(ref _lastKnownAvailable),
            CurrentQueuedCount = Volatile.Read(ref _queued),
            TotalSuccessfulLeases = Interlocked.Read(ref _successful),
            TotalFailedLeases = Interlocked.Read(ref _failed),
        };
    }

    /// <summary>
    /// A non-waiting attempt. The global limiter lives in the cluster, so this makes one synchronous grain call with a
    /// zero wait; prefer <see cref="RateLimiter.AcquireAsync"/> on hot paths.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        if (TaskScheduler.Current != TaskScheduler.Default)
        {
            // Blocking on a grain call from inside a grain (or any single-threaded scheduler) would deadlock.
            throw new InvalidOperationException("AttemptAcquire blocks on a grain call; inside a grain use AcquireAsync.");
        }

        if (permitCount == 0)
        {
            return Volatile.Read(ref _lastKnownAvailable) > 0 ? EmptyLease.Acquired : Failed("No permit is available.", null);
        }

        return AcquireFromLimiterAsync(permitCount, TimeSpan.Zero, CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (permitCount == 0)
        {
            return EmptyLease.Acquired;
        }

        if (Interlocked.Add(ref _queued, permitCount) > _options.QueueLimit)
        {
            Interlocked.Add(ref _queued, -permitCount);
            return Failed($"The queue of this rate limiter is full ({_options.QueueLimit} permits).", null);
        }

        try
        {
            return await AcquireFromLimiterAsync(permitCount, _options.QueueTimeout, cancellationToken);
        }
        finally
        {
            Interlocked.Add(ref _queued, -permitCount);
        }
    }

    protected override void Dispose(bool disposing) => Interlocked.Exchange(ref _disposed, 1);

    protected override ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }

    private async ValueTask<RateLimitLease> AcquireFromLimiterAsync(int permitCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        var result = await _limiter.AcquireAsync(new AcquireRequest(_holder, permitCount, wait, _leaseTtl, _options.Priority), cancellationToken);
        Volatile.Write(ref _lastKnownAvailable, result.Available);
        if (result.Lease is not { } lease)
        {
            return Failed(result.Reason ?? $"No permit of '{_name}' was granted.", result.RetryAfter);
        }

        Interlocked.Increment(ref _successful);
        Interlocked.Add(ref _held, permitCount);
        return new GlobalLease(this, new LimiterLease(_limiter, lease, _time));
    }

    private RateLimitLease Failed(string reason, TimeSpan? retryAfter)
    {
        Interlocked.Increment(ref _failed);
        return new FailedLease(reason, retryAfter);
    }

    private void Returned(int permits)
    {
        if (Interlocked.Add(ref _held, -permits) == 0)
        {
            Volatile.Write(ref _idleSince, _time.GetTimestamp());
        }
    }

    /// <summary>A granted global lease; disposing releases it exactly once.</summary>
    private sealed class GlobalLease(FloodgateRateLimiter owner, LimiterLease lease) : RateLimitLease
    {
        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _released, 1) == 1)
            {
                return;
            }

            owner.Returned(lease.Lease.Weight);
            // RateLimitLease.Dispose is synchronous; the release is one grain call that completes in the background.
            // A release that fails is covered by the lease's TTL; observe it so it is not an unobserved exception.
            _ = lease.DisposeAsync().AsTask().ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private sealed class FailedLease(string reason, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames =>
            retryAfter is null ? [MetadataName.ReasonPhrase.Name] : [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.ReasonPhrase.Name ? reason
                : metadataName == MetadataName.RetryAfter.Name && retryAfter is { } wait ? wait
                : null;
            return metadata is not null;
        }
    }

    private sealed class EmptyLease : RateLimitLease
    {
        public static readonly EmptyLease Acquired = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
