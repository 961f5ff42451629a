using System.Threading.RateLimiting;
using Floodgate.Client.Leases;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Client.RateLimiting;

/// <summary>
/// A <see cref="RateLimiter"/> whose permits are leases of a Floodgate global limiter, so an <c>HttpClient</c>
/// resilience pipeline, Polly's <c>AddRateLimiter</c> or ASP.NET rate limiting share one account-wide count with every
/// other Floodgate client. It passes the same contract suite as <see cref="ConcurrencyLimiter"/> with
/// <see cref="QueueProcessingOrder.OldestFirst"/>: leases release exactly once; only requests that have to wait count
/// against the queue limit; a request for more permits than the limit throws <see cref="ArgumentOutOfRangeException"/>;
/// zero-permit requests report availability; cancellation throws <see cref="TaskCanceledException"/> carrying the
/// caller's token; disposing fails every waiting request; statistics count successes and failures.
/// </summary>
/// <remarks>
/// <para>Where a limiter in another process must differ from an in-process one:</para>
/// <list type="bullet">
/// <item><description><b>AttemptAcquire makes one bounded call.</b> A lease can only come from the global limiter, so
/// <see cref="RateLimiter.AttemptAcquire"/> asks it with a zero wait and blocks its caller for at most
/// <see cref="FloodgateRateLimiterOptions.AttemptTimeout"/>. The call runs on the thread pool and never needs the
/// caller's thread, so blocking cannot deadlock under a single-threaded <see cref="SynchronizationContext"/> or a grain's
/// scheduler. Without an answer in time the attempt fails and the acquire is cancelled by its request id. It still
/// holds a thread for a round trip (ASP.NET's rate limiting middleware calls it for every request before
/// <see cref="RateLimiter.AcquireAsync"/>); prefer <see cref="RateLimiter.AcquireAsync"/>.</description></item>
/// <item><description><b>Queue room is reserved before the answer.</b> Whether a request will be granted at once is
/// only known when the limiter answers, so a request that fits the queue limit takes its room for the whole call; one
/// made while the room is taken is sent as a no-wait attempt: granted if permits are free, refused at once
/// otherwise.</description></item>
/// <item><description><b>Every wait that is given up is undone by request id.</b> Each acquire carries a fresh request
/// id; when the caller cancels, the adapter is disposed, or the call fails with an unknown outcome, the adapter calls
/// <see cref="IGlobalLimiterGrain.CancelAcquireAsync"/>, which removes the waiter or releases a grant still on its way
/// back. The caller is answered at once; the undo completes in the background (<see cref="RateLimiter.DisposeAsync()"/>
/// waits for it).</description></item>
/// <item><description><b>Releases are asynchronous, but this adapter reads its own releases.</b> Disposing a lease
/// sends the release in the background; any later acquire through the same adapter is sent only after the releases
/// and cancellations it has sent before were answered, so a permit returned through this adapter is free for its next
/// request. Other clients see it one round trip later.</description></item>
/// <item><description><b>Statistics are a local view.</b> <see cref="RateLimiterStatistics.CurrentAvailablePermits"/> is
/// the global count as last answered by the limiter (every acquire answers it), plus this adapter's own releases since,
/// fetched again in the background when older than <see cref="FloodgateRateLimiterOptions.StatisticsRefreshInterval"/>.
/// It is 0 until the first answer (one round trip after creation) and shows other clients' grants with that delay.
/// Queued count, successes and failures are this adapter's own.</description></item>
/// <item><description><b>Zero-permit requests.</b> <c>AttemptAcquire(0)</c> asks the limiter's status (bounded like any
/// attempt). <c>AcquireAsync(0)</c> on a full limiter waits in the global queue as a one-permit request and gives that
/// permit back as soon as it is granted: for one round trip it holds a permit.</description></item>
/// <item><description><b>Queue order is the global limiter's:</b> FIFO per holder, round-robin across holders, by
/// priority class; <see cref="QueueProcessingOrder.NewestFirst"/> is not available. The limit can change live, so a
/// request above it is only known to be invalid when the limiter says so (one round trip). An answer from an
/// activation that is handing over (<see cref="AcquireFailure.Fenced"/>) is a failed lease with a retry hint.</description></item>
/// <item><description><b>Held leases outlive the adapter.</b> A lease keeps renewing until it is disposed, also after
/// the adapter is disposed; disposing it then still returns its permits.</description></item>
/// </list>
/// </remarks>
internal sealed class FloodgateRateLimiter : RateLimiter
{
    private const string DisposedReason = "The rate limiter was disposed while the request waited.";

    private readonly IGlobalLimiterGrain _limiter;
    private readonly string _name;
    private readonly string _holder;
    private readonly TimeSpan _leaseTtl;
    private readonly TimeProvider _time;
    private readonly int _queueLimit;
    private readonly TimeSpan _queueTimeout;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _statisticsRefreshInterval;
    private readonly AcquirePriority _priority;

    private readonly Lock _gate = new();
    private readonly HashSet<PendingAcquire> _pending = [];
    private readonly HashSet<Task> _returnsInFlight = [];
    private int _queuedPermits;
    private int _heldPermits;
    private long _idleSince;
    private bool _disposed;
    private long _successful;
    private long _failed;

    private int _available;
    private int _maxConcurrency;
    private long _viewVersion;
    private long? _viewAt;
    private bool _refreshing;

    public FloodgateRateLimiter(IGlobalLimiterGrain limiter, string name, FloodgateRateLimiterOptions options, string holder, TimeSpan leaseTtl, TimeProvider time)
    {
        _limiter = limiter;
        _name = name;
        _holder = options.Holder ?? holder;
        _leaseTtl = leaseTtl;
        _time = time;
        _queueLimit = options.QueueLimit;
        _queueTimeout = options.QueueTimeout;
        _attemptTimeout = options.AttemptTimeout;
        _statisticsRefreshInterval = options.StatisticsRefreshInterval;
        _priority = options.Priority;
        _idleSince = time.GetTimestamp();
        RefreshViewIfStale();
    }

    /// <inheritdoc />
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                return _heldPermits == 0 && _pending.Count == 0 ? _time.GetElapsedTime(_idleSince) : null;
            }
        }
    }

    /// <inheritdoc />
    public override RateLimiterStatistics? GetStatistics()
    {
        ThrowIfDisposed();
        RefreshViewIfStale();
        lock (_gate)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = _available,
                CurrentQueuedCount = _queuedPermits,
                TotalSuccessfulLeases = _successful,
                TotalFailedLeases = _failed,
            };
        }
    }

    /// <summary>
    /// Asks the global limiter once, without waiting in its queue, and blocks for at most the attempt timeout (see the
    /// remarks of <see cref="FloodgateRateLimiter"/>).
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ThrowIfDisposed();
        var requestId = AcquireRequest.NewRequestId();

        var attempt = OffCallerContext(() => permitCount == 0 ? CheckAvailableAsync() : TryAcquireNowAsync(permitCount, requestId));
        try
        {
            return Counted(attempt.WaitAsync(_attemptTimeout, _time).GetAwaiter().GetResult());
        }
        catch (TimeoutException) when (attempt.IsCompleted)
        {
            // The answer came as the timeout fired (or the call itself timed out): use it as it is.
            return Counted(attempt.GetAwaiter().GetResult());
        }
        catch (TimeoutException)
        {
            // A late grant is released twice over: by request id at the limiter, and by disposing the late lease here.
            Track(_limiter.CancelAcquireAsync(requestId));
            _ = attempt.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            Observe(attempt);
            return Counted(new FailedLease($"The global limiter '{_name}' did not answer within {_attemptTimeout}.", null));
        }
    }

    /// <inheritdoc />
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            // Same exception as a cancellation while queued: TaskCanceledException carrying the caller's token.
            return ValueTask.FromCanceled<RateLimitLease>(cancellationToken);
        }

        return new ValueTask<RateLimitLease>(WaitForLeaseAsync(permitCount, cancellationToken));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        List<PendingAcquire> stopped;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            stopped = [.. _pending];
        }

        foreach (var pending in stopped)
        {
            if (pending.Stop(new FailedLease(DisposedReason, null)))
            {
                Undo(pending);
            }
        }
    }

    /// <summary>Disposes, then waits until the limiter answered every cancellation and release this adapter sent.</summary>
    protected override async ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        await ReturnsInFlight().ConfigureAwait(false);
    }

    private async Task<RateLimitLease> WaitForLeaseAsync(int permitCount, CancellationToken cancellationToken)
    {
        // Zero permits: answer from the limiter's status, or wait as a one-permit request that gives its permit back.
        var probe = permitCount == 0;
        var weight = Math.Max(permitCount, 1);
        var pending = Register(permitCount, cancellationToken);
        try
        {
            var returns = ReturnsInFlight();
            if (!returns.IsCompleted && await Task.WhenAny(returns, pending.Stopped).ConfigureAwait(false) != returns)
            {
                return Counted(await pending.Stopped.ConfigureAwait(false));
            }

            if (probe)
            {
                var status = _limiter.GetStatusAsync();
                if (await Task.WhenAny(status, pending.Stopped).ConfigureAwait(false) != status)
                {
                    Observe(status);
                    return Counted(await pending.Stopped.ConfigureAwait(false));
                }

                if (UpdateView(await status.ConfigureAwait(false)) > 0)
                {
                    return Counted(ZeroLease.Acquired);
                }
            }

            var wait = pending.Queued ? _queueTimeout : TimeSpan.Zero;
            var call = _limiter.AcquireWaitingAsync(new AcquireRequest(_holder, weight, wait, _leaseTtl, _priority, pending.RequestId), _time);
            if (await Task.WhenAny(call, pending.Stopped).ConfigureAwait(false) != call)
            {
                Observe(call);
                if (pending.Stop(null))
                {
                    Undo(pending);
                }

                return Counted(await pending.Stopped.ConfigureAwait(false));
            }

            AcquireResult result;
            try
            {
                result = await call.ConfigureAwait(false);
            }
            catch (FloodgateValidationException invalid)
            {
                await ThrowIfAboveLimitAsync(permitCount, invalid).ConfigureAwait(false);
                throw;
            }
            catch (Exception)
            {
                // The outcome is unknown (e.g. the silo was lost): whatever was granted must not stay held by nobody.
                if (pending.Stop(null))
                {
                    Undo(pending);
                }

                throw;
            }

            if (probe && result.Lease is { } probeLease)
            {
                Track(_limiter.ReleaseAsync(probeLease.LeaseId));
                UpdateView(result.Available + 1);
                return Counted(ZeroLease.Acquired);
            }

            var queueWasFull = !pending.Queued && _queueTimeout > TimeSpan.Zero;
            return Counted(ToLease(result, queueWasFull));
        }
        finally
        {
            Unregister(pending);
        }
    }

    private async Task<RateLimitLease> TryAcquireNowAsync(int permitCount, string requestId)
    {
        await ReturnsInFlight().ConfigureAwait(false);
        try
        {
            var result = await _limiter.AcquireAsync(new AcquireRequest(_holder, permitCount, TimeSpan.Zero, _leaseTtl, _priority, requestId)).ConfigureAwait(false);
            return ToLease(result, queueWasFull: false);
        }
        catch (FloodgateValidationException invalid)
        {
            await ThrowIfAboveLimitAsync(permitCount, invalid).ConfigureAwait(false);
            throw;
        }
        catch (Exception)
        {
            Track(_limiter.CancelAcquireAsync(requestId));
            throw;
        }
    }

    private async Task<RateLimitLease> CheckAvailableAsync()
    {
        await ReturnsInFlight().ConfigureAwait(false);
        var available = UpdateView(await _limiter.GetStatusAsync().ConfigureAwait(false));
        return available > 0 ? ZeroLease.Acquired : new FailedLease($"No permit of '{_name}' is free.", null);
    }

    /// <summary>A lease for the limiter's answer; takes the answer's count of free permits as the new view.</summary>
    private RateLimitLease ToLease(AcquireResult result, bool queueWasFull)
    {
        UpdateView(result.Available);
        if (result.Lease is { } lease)
        {
            lock (_gate)
            {
                _heldPermits += lease.Weight;
            }

            return new GlobalLease(this, new LimiterLease(_limiter, lease, _time));
        }

        var reason = queueWasFull && result.Failure == AcquireFailure.Timeout
            ? $"No permit of '{_name}' is free and this rate limiter's queue is full (at most {_queueLimit} permits may wait)."
            : result.Reason ?? $"No permit of '{_name}' was granted.";
        return new FailedLease(reason, result.RetryAfter);
    }

    /// <summary>Turns the limiter's refusal of an impossible weight into the contract's exception.</summary>
    private async Task ThrowIfAboveLimitAsync(int permitCount, FloodgateValidationException invalid)
    {
        var status = await _limiter.GetStatusAsync().ConfigureAwait(false);
        UpdateView(status);
        if (permitCount > status.MaxConcurrency)
        {
            throw new ArgumentOutOfRangeException(
                nameof(permitCount),
                permitCount,
                $"{permitCount} permits can never be granted: the limit of '{_name}' is {status.MaxConcurrency}. {invalid.Message}");
        }
    }

    private RateLimitLease Counted(RateLimitLease lease)
    {
        if (lease.IsAcquired)
        {
            Interlocked.Increment(ref _successful);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }

        return lease;
    }

    private PendingAcquire Register(int permitCount, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowIfDisposed();

            // Reserve queue room for a request that may wait; without room it may still be granted at once, but never waits.
            var queued = _queueTimeout > TimeSpan.Zero && _queueLimit - _queuedPermits >= permitCount;
            if (queued)
            {
                _queuedPermits += permitCount;
            }

            var pending = new PendingAcquire(permitCount, queued, cancellationToken);
            _pending.Add(pending);
            return pending;
        }
    }

    private void Unregister(PendingAcquire pending)
    {
        pending.Dispose();
        lock (_gate)
        {
            _pending.Remove(pending);
            if (pending.Queued)
            {
                _queuedPermits -= pending.PermitCount;
            }

            MarkIdleIfQuiet();
        }
    }

    /// <summary>Cancels the request at the limiter: its waiter leaves the queue, or its grant (even one in transit) is released.</summary>
    private void Undo(PendingAcquire pending) => Track(_limiter.CancelAcquireAsync(pending.RequestId));

    private void Returned(int permits, Task release)
    {
        Track(release);
        lock (_gate)
        {
            _heldPermits -= permits;
            _available = _maxConcurrency > 0 ? Math.Min(_available + permits, _maxConcurrency) : _available + permits;
            _viewVersion++;
            MarkIdleIfQuiet();
        }
    }

    private void MarkIdleIfQuiet()
    {
        if (_heldPermits == 0 && _pending.Count == 0)
        {
            _idleSince = _time.GetTimestamp();
        }
    }

    /// <summary>Remembers a release or cancellation until the limiter answered it, so later acquires are sent after it.</summary>
    private void Track(Task call)
    {
        var settled = call.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        lock (_gate)
        {
            _returnsInFlight.Add(settled);
        }

        settled.ContinueWith(
            t =>
            {
                lock (_gate)
                {
                    _returnsInFlight.Remove(t);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private Task ReturnsInFlight()
    {
        lock (_gate)
        {
            return _returnsInFlight.Count == 0 ? Task.CompletedTask : Task.WhenAll(_returnsInFlight);
        }
    }

    private int UpdateView(int available)
    {
        lock (_gate)
        {
            _available = available;
            _viewAt = _time.GetTimestamp();
            _viewVersion++;
            return available;
        }
    }

    private int UpdateView(LimiterStatus status)
    {
        lock (_gate)
        {
            _maxConcurrency = status.MaxConcurrency;
        }

        return UpdateView(status.Available);
    }

    private void RefreshViewIfStale()
    {
        long version;
        lock (_gate)
        {
            if (_refreshing || (_viewAt is { } at && _time.GetElapsedTime(at) < _statisticsRefreshInterval && _statisticsRefreshInterval > TimeSpan.Zero))
            {
                return;
            }

            _refreshing = true;
            version = _viewVersion;
        }

        _ = RefreshViewAsync(version);
    }

    private async Task RefreshViewAsync(long version)
    {
        try
        {
            await ReturnsInFlight().ConfigureAwait(false);
            var status = await _limiter.GetStatusAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _maxConcurrency = status.MaxConcurrency;

                // An answer that arrived meanwhile (an acquire, a release of ours) is at least as fresh as this one.
                if (_viewVersion == version)
                {
                    _available = status.Available;
                    _viewAt = _time.GetTimestamp();
                }
            }
        }
        catch (Exception)
        {
            // The view stays as it was; the next read of the statistics tries again.
        }
        finally
        {
            lock (_gate)
            {
                _refreshing = false;
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="work"/> so that it never needs the calling thread: directly when the caller has no
    /// synchronization context or scheduler of its own (no thread-pool hop), else on the thread pool. A caller may then
    /// block on it without deadlocking a single-threaded context or a grain.
    /// </summary>
    private static Task<T> OffCallerContext<T>(Func<Task<T>> work) =>
        SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default ? work() : Task.Run(work);

    private static Task OffCallerContext(Func<Task> work) =>
        SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default ? work() : Task.Run(work);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>
    /// A request in progress: <see cref="Stopped"/> completes with a failed lease when the adapter is disposed, or as
    /// cancelled (carrying the caller's token) when the caller cancels.
    /// </summary>
    private sealed class PendingAcquire : IDisposable
    {
        private readonly TaskCompletionSource<RateLimitLease> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationToken _cancellationToken;
        private readonly CancellationTokenRegistration _registration;
        private int _undone;

        public PendingAcquire(int permitCount, bool queued, CancellationToken cancellationToken)
        {
            PermitCount = permitCount;
            Queued = queued;
            _cancellationToken = cancellationToken;
            _registration = cancellationToken.Register(static state => ((PendingAcquire)state!).Cancel(), this);
        }

        public string RequestId { get; } = AcquireRequest.NewRequestId();

        public int PermitCount { get; }

        /// <summary>True when the request took queue room and may wait at the limiter.</summary>
        public bool Queued { get; }

        public Task<RateLimitLease> Stopped => _stopped.Task;

        /// <summary>Ends the wait with <paramref name="lease"/> (null: as it stands); true only for the first caller, who undoes the request.</summary>
        public bool Stop(RateLimitLease? lease)
        {
            if (lease is not null)
            {
                _stopped.TrySetResult(lease);
            }

            return Interlocked.Exchange(ref _undone, 1) == 0;
        }

        public void Dispose() => _registration.Dispose();

        private void Cancel() => _stopped.TrySetCanceled(_cancellationToken);
    }

    /// <summary>A granted global lease; disposing releases it exactly once.</summary>
    private sealed class GlobalLease(FloodgateRateLimiter owner, LimiterLease lease) : RateLimitLease
    {
        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => LeaseMetadata.Names;

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

            // RateLimitLease.Dispose is synchronous: the release is one grain call the adapter tracks (a failed release
            // is covered by the lease's TTL). Off the caller's context: LimiterLease's awaits resume on the captured one.
            owner.Returned(lease.Lease.Weight, OffCallerContext(() => lease.DisposeAsync().AsTask()));
        }
    }

    private sealed class FailedLease(string reason, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => LeaseMetadata.Names;

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.ReasonPhrase.Name ? reason
                : metadataName == MetadataName.RetryAfter.Name && retryAfter is { } wait ? wait
                : null;
            return metadata is not null;
        }
    }

    /// <summary>A zero-permit lease: it holds nothing.</summary>
    private sealed class ZeroLease : RateLimitLease
    {
        public static readonly ZeroLease Acquired = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => LeaseMetadata.Names;

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    /// <summary>Every metadata name a lease of this limiter may carry (as <see cref="ConcurrencyLimiter"/>'s leases list theirs).</summary>
    private static class LeaseMetadata
    {
        public static readonly string[] Names = [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name];
    }
}
