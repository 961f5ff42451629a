using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// The limiter's bookkeeping without Orleans: leases, the waiter queue, the rate window and the grant rule. Every method
/// is synchronous so the reentrant grain can call it between awaits without races.
/// Grant rule: a grant needs a concurrency permit and, with a rate budget, room in the rate window. Waiters are
/// served by priority class (strictly), then round-robin across holders, FIFO within a holder; the waiter at the head
/// is never skipped, so a heavy (weight &gt; 1) waiter cannot be starved by light ones.
/// </summary>
internal sealed class PermitLedger(string name, TimeProvider time)
{
    private static readonly AcquirePriority[] ClassesHighFirst = [AcquirePriority.High, AcquirePriority.Normal, AcquirePriority.Low];

    private readonly Dictionary<string, LeaseEntry> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _leaseByRequest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Waiter> _waiterByRequest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _cancelledRequests = new(StringComparer.Ordinal);
    private readonly Dictionary<(AcquirePriority, string), Queue<Waiter>> _queues = [];
    private readonly Dictionary<AcquirePriority, LinkedList<string>> _rotations = ClassesHighFirst.ToDictionary(c => c, _ => new LinkedList<string>());
    private readonly RateWindow _rate = new(time);
    private DateTimeOffset? _pausedUntil;
    private bool _fenced;

    public string Name { get; } = name;

    public int MaxConcurrency { get; private set; } = FloodgateDefaults.MaxConcurrency;

    public int InUse { get; private set; }

    public int Waiting { get; private set; }

    public int HighWaterMark { get; private set; }

    public long Grants { get; private set; }

    public long Timeouts { get; private set; }

    public long Expirations { get; private set; }

    public long Readopted { get; private set; }

    public RateWindow Rate => _rate;

    /// <summary>True while grants are withheld: recovering after an unclean loss, or fenced.</summary>
    public bool Paused => _fenced || (_pausedUntil is { } until && time.GetUtcNow() < until);

    public DateTimeOffset? PausedUntil => Paused ? _pausedUntil : null;

    /// <summary>
    /// When waiters are blocked only by time (the rate window or a recovery pause), the moment to pump again;
    /// null when nothing time-based is holding them.
    /// </summary>
    public DateTimeOffset? WakeAt
    {
        get
        {
            if (Waiting == 0 || _fenced)
            {
                return null;
            }

            return Paused ? _pausedUntil : _rate.NextFreeAt;
        }
    }

    /// <summary>Grants immediately when nobody waits, nothing is paused and a permit and a rate slot are free.</summary>
    public Lease? TryAcquire(string holder, int weight, TimeSpan ttl, string? requestId = null)
    {
        if (Waiting > 0 || !CanGrant(weight))
        {
            return null;
        }

        return Grant(holder, weight, ttl, requestId);
    }

    /// <summary>How long a cancelled request id is remembered, so an acquire arriving after its cancel is refused.</summary>
    public static readonly TimeSpan CancelledRequestMemory = TimeSpan.FromMinutes(10);

    /// <summary>True when <paramref name="requestId"/> was cancelled: an acquire with it must grant nothing.</summary>
    public bool IsCancelled(string requestId)
    {
        ForgetOldCancellations();
        return _cancelledRequests.ContainsKey(requestId);
    }

    /// <summary>The live lease granted to <paramref name="requestId"/>, if any (a repeated acquire gets it back).</summary>
    public Lease? LeaseOf(string requestId) =>
        _leaseByRequest.TryGetValue(requestId, out var leaseId) && _leases.TryGetValue(leaseId, out var entry) ? entry.Lease : null;

    /// <summary>The queued waiter of <paramref name="requestId"/>, if any (a repeated acquire joins its wait).</summary>
    public Waiter? WaiterOf(string requestId) => _waiterByRequest.GetValueOrDefault(requestId);

    /// <summary>
    /// Undoes the acquire of <paramref name="requestId"/>: releases its lease or removes its waiter, and remembers the id
    /// so a late acquire with it is refused. Returns true when a lease was released or a waiter removed.
    /// </summary>
    public bool CancelRequest(string requestId)
    {
        ForgetOldCancellations();
        _cancelledRequests[requestId] = time.GetUtcNow();
        if (_waiterByRequest.TryGetValue(requestId, out var waiter) && Abandon(waiter, timedOut: false))
        {
            return true;
        }

        return _leaseByRequest.TryGetValue(requestId, out var leaseId) && Release(leaseId);
    }

    private void ForgetOldCancellations()
    {
        if (_cancelledRequests.Count == 0)
        {
            return;
        }

        var horizon = time.GetUtcNow() - CancelledRequestMemory;
        foreach (var (id, at) in _cancelledRequests.Where(c => c.Value <= horizon).ToList())
        {
            _cancelledRequests.Remove(id);
        }
    }

    /// <summary>Queues a waiter; it completes when <see cref="Pump"/> grants it.</summary>
    public Waiter Enqueue(string holder, int weight, TimeSpan ttl, AcquirePriority priority = AcquirePriority.Normal, string? requestId = null)
    {
        var waiter = new Waiter(holder, weight, ttl, priority, requestId);
        if (requestId is not null)
        {
            _waiterByRequest[requestId] = waiter;
        }

        if (!_queues.TryGetValue((priority, holder), out var queue))
        {
            queue = new Queue<Waiter>();
            _queues[(priority, holder)] = queue;
            _rotations[priority].AddLast(holder);
        }

        queue.Enqueue(waiter);
        Waiting++;
        Pump();
        return waiter;
    }

    /// <summary>Removes a waiter that gave up. Returns false when it was already granted (the caller owns the lease).</summary>
    public bool Abandon(Waiter waiter, bool timedOut)
    {
        if (waiter.Task.IsCompleted || RemoveFromQueue((waiter.Priority, waiter.Holder), w => ReferenceEquals(w, waiter)).Count == 0)
        {
            return false;
        }

        if (timedOut)
        {
            Timeouts++;
        }

        waiter.Cancel();
        // The abandoned waiter may have been the head that blocked others.
        Pump();
        return true;
    }

    /// <summary>Releases a lease. Returns false when it is unknown or already gone.</summary>
    public bool Release(string leaseId)
    {
        if (!_leases.Remove(leaseId, out var entry))
        {
            return false;
        }

        ForgetRequest(entry);
        InUse -= entry.Lease.Weight;
        Pump();
        return true;
    }

    /// <summary>Extends a live lease by its TTL; null when unknown, expired, or this activation is fenced.</summary>
    public Lease? Renew(string leaseId)
    {
        ExpireDue();
        if (_fenced || !_leases.TryGetValue(leaseId, out var entry))
        {
            return null;
        }

        var renewed = entry.Lease with { ExpiresAt = time.GetUtcNow() + entry.Lease.Ttl };
        _leases[leaseId] = entry with { Lease = renewed };
        return renewed;
    }

    /// <summary>
    /// Takes back a lease granted by an earlier activation whose memory was lost: its permits are real calls in flight,
    /// so they count as in use (even above the limit; grants resume only once in-use drops).
    /// </summary>
    public Lease Adopt(string leaseId, string holder, int weight, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        var lease = new Lease(leaseId, Name, holder, weight, now + ttl, ttl);
        _leases[leaseId] = new LeaseEntry(lease, now);
        InUse += weight;
        HighWaterMark = Math.Max(HighWaterMark, InUse);
        Readopted++;
        return lease;
    }

    /// <summary>Returns the permits of every lease past its expiry. Returns how many expired.</summary>
    public int ExpireDue()
    {
        var now = time.GetUtcNow();
        var expired = _leases.Where(e => e.Value.Lease.ExpiresAt <= now).Select(e => e.Key).ToList();
        foreach (var id in expired)
        {
            ForgetRequest(_leases[id]);
            InUse -= _leases[id].Lease.Weight;
            _leases.Remove(id);
        }

        Expirations += expired.Count;
        if (expired.Count > 0)
        {
            Pump();
        }

        return expired.Count;
    }

    /// <summary>
    /// Changes the limit; raising grants waiters at once, lowering only withholds new grants. Waiters asking for more
    /// permits than the new limit could ever grant fail at once (they would block the queue forever).
    /// </summary>
    public void SetMaxConcurrency(int maxConcurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        MaxConcurrency = maxConcurrency;
        FailWaiters(
            w => w.Weight > maxConcurrency,
            w => new FloodgateValidationException($"Weight {w.Weight} is above the new limit {maxConcurrency} of '{Name}'."));
        Pump();
    }

    /// <summary>Sets or removes the requests-per-minute budget.</summary>
    public void SetRate(int? requestsPerMinute, double safetyFactor)
    {
        _rate.Configure(requestsPerMinute, safetyFactor);
        Pump();
    }

    /// <summary>Grants nothing new until <paramref name="until"/> (recovery after an unclean loss).</summary>
    public void PauseUntil(DateTimeOffset until) => _pausedUntil = until;

    /// <summary>True once another activation has claimed the limiter: this one grants, renews and adopts nothing.</summary>
    public bool Fenced => _fenced;

    /// <summary>True while recovering from an unclean loss (not fenced): renewals of unknown leases re-adopt them.</summary>
    public bool Recovering => !_fenced && Paused;

    /// <summary>Stops granting for good and fails every waiter: another activation owns the limiter now.</summary>
    public void Fence()
    {
        _fenced = true;
        FailWaiters(_ => true, _ => new LimiterFencedException(Name));
    }

    private void FailWaiters(Func<Waiter, bool> predicate, Func<Waiter, Exception> error)
    {
        foreach (var key in _queues.Keys.ToList())
        {
            foreach (var waiter in RemoveFromQueue(key, predicate))
            {
                waiter.Fail(error(waiter));
            }
        }
    }

    /// <summary>Takes the waiters matching <paramref name="remove"/> out of one holder's queue, keeping the rest in order.</summary>
    private List<Waiter> RemoveFromQueue((AcquirePriority Priority, string Holder) key, Func<Waiter, bool> remove)
    {
        if (!_queues.TryGetValue(key, out var queue))
        {
            return [];
        }

        var removed = queue.Where(remove).ToList();
        if (removed.Count == 0)
        {
            return removed;
        }

        var kept = new Queue<Waiter>(queue.Where(w => !remove(w)));
        if (kept.Count == 0)
        {
            _queues.Remove(key);
            _rotations[key.Priority].Remove(key.Holder);
        }
        else
        {
            _queues[key] = kept;
        }

        Waiting -= removed.Count;
        foreach (var waiter in removed)
        {
            if (waiter.RequestId is { } requestId)
            {
                _waiterByRequest.Remove(requestId);
            }
        }

        return removed;
    }

    /// <summary>Grants waiters while the head of the highest non-empty priority class fits.</summary>
    public void Pump()
    {
        foreach (var priority in ClassesHighFirst)
        {
            var rotation = _rotations[priority];
            while (rotation.First is { } node)
            {
                var queue = _queues[(priority, node.Value)];
                var head = queue.Peek();
                if (!CanGrant(head.Weight))
                {
                    // Strict: nothing of a lower class or later in the rotation overtakes a blocked head.
                    return;
                }

                queue.Dequeue();
                Waiting--;
                rotation.RemoveFirst();
                if (queue.Count > 0)
                {
                    rotation.AddLast(node);
                }
                else
                {
                    _queues.Remove((priority, node.Value));
                }

                head.Complete(Grant(head.Holder, head.Weight, head.Ttl, head.RequestId));
            }
        }
    }

    public LimiterStatus Snapshot(LimitSource source, long epoch)
    {
        var now = time.GetUtcNow();
        var holders = _leases.Values
            .GroupBy(e => e.Lease.Holder, StringComparer.Ordinal)
            .Select(g => new HolderStatus(g.Key, g.Sum(e => e.Lease.Weight), g.Count(), now - g.Min(e => e.GrantedAt)))
            .OrderByDescending(h => h.Permits)
            .ThenBy(h => h.Holder, StringComparer.Ordinal)
            .ToList();

        return new LimiterStatus
        {
            Name = Name,
            MaxConcurrency = MaxConcurrency,
            LimitSource = source,
            InUse = InUse,
            Available = Math.Max(0, MaxConcurrency - InUse),
            Waiting = Waiting,
            HighWaterMark = HighWaterMark,
            Grants = Grants,
            Timeouts = Timeouts,
            Expirations = Expirations,
            Holders = holders,
            Waiters = WaitersInGrantOrder(),
            RequestsPerMinute = _rate.RequestsPerMinute,
            RateSafetyFactor = _rate.SafetyFactor,
            RateBudget = _rate.Budget,
            RateAvailable = _rate.Available,
            Recovering = Paused,
            RecoveringUntil = Recovering ? _pausedUntil : null,
            Epoch = epoch,
            Readopted = Readopted,
        };
    }

    /// <summary>The order in which waiters would be granted if permits were plentiful.</summary>
    public IReadOnlyList<WaiterStatus> WaitersInGrantOrder()
    {
        var result = new List<WaiterStatus>(Waiting);
        foreach (var priority in ClassesHighFirst)
        {
            var queues = _rotations[priority].Select(h => _queues[(priority, h)].ToArray()).ToList();
            var remaining = queues.Sum(q => q.Length);
            for (var round = 0; remaining > 0; round++)
            {
                foreach (var queue in queues.Where(q => round < q.Length))
                {
                    result.Add(new WaiterStatus(queue[round].Holder, result.Count, queue[round].Weight));
                    remaining--;
                }
            }
        }

        return result;
    }

    private bool CanGrant(int weight) => !Paused && InUse + weight <= MaxConcurrency && _rate.CanGrant;

    private Lease Grant(string holder, int weight, TimeSpan ttl, string? requestId)
    {
        var now = time.GetUtcNow();
        var lease = new Lease(Guid.NewGuid().ToString("N"), Name, holder, weight, now + ttl, ttl);
        _leases[lease.LeaseId] = new LeaseEntry(lease, now, requestId);
        if (requestId is not null)
        {
            _waiterByRequest.Remove(requestId);
            _leaseByRequest[requestId] = lease.LeaseId;
        }

        InUse += weight;
        HighWaterMark = Math.Max(HighWaterMark, InUse);
        Grants++;
        _rate.Record();
        return lease;
    }

    private void ForgetRequest(LeaseEntry entry)
    {
        if (entry.RequestId is { } requestId)
        {
            _leaseByRequest.Remove(requestId);
        }
    }

    private sealed record LeaseEntry(Lease Lease, DateTimeOffset GrantedAt, string? RequestId = null);

    /// <summary>A queued acquire.</summary>
    internal sealed class Waiter(string holder, int weight, TimeSpan ttl, AcquirePriority priority, string? requestId = null)
    {
        public string? RequestId { get; } = requestId;

        private readonly TaskCompletionSource<Lease> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Holder { get; } = holder;

        public int Weight { get; } = weight;

        public TimeSpan Ttl { get; } = ttl;

        public AcquirePriority Priority { get; } = priority;

        public Task<Lease> Task => _completion.Task;

        internal void Complete(Lease lease) => _completion.TrySetResult(lease);

        internal void Cancel() => _completion.TrySetCanceled();

        internal void Fail(Exception error) => _completion.TrySetException(error);
    }
}

/// <summary>This activation of a limiter lost its claim (another activation wrote a newer epoch) and grants nothing.</summary>
internal sealed class LimiterFencedException(string limiter)
    : Exception($"Limiter '{limiter}' moved to another activation; try again.");
