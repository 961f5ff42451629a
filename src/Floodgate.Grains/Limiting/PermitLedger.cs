using Floodgate.Limiting;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// The limiter's bookkeeping without Orleans: leases, the waiter queue and the grant rule. Every method is synchronous
/// so the reentrant grain can call it between awaits without races.
/// Grant rule: waiters are FIFO per holder and holders take turns (round-robin); the head of the rotation is never
/// skipped, so a heavy waiter cannot be starved by light ones.
/// </summary>
internal sealed class PermitLedger(string name, TimeProvider time)
{
    private readonly Dictionary<string, LeaseEntry> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<Waiter>> _waitersByHolder = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _rotation = new();

    public string Name { get; } = name;

    public int MaxConcurrency { get; private set; } = FloodgateDefaults.MaxConcurrency;

    public int InUse { get; private set; }

    public int Waiting { get; private set; }

    public int HighWaterMark { get; private set; }

    public long Grants { get; private set; }

    public long Timeouts { get; private set; }

    public long Expirations { get; private set; }

    /// <summary>Grants immediately when nobody waits and permits are free; otherwise null.</summary>
    public Lease? TryAcquire(string holder, int weight, TimeSpan ttl)
    {
        if (Waiting > 0 || InUse + weight > MaxConcurrency)
        {
            return null;
        }

        return Grant(holder, weight, ttl);
    }

    /// <summary>Queues a waiter; it completes when <see cref="Pump"/> grants it.</summary>
    public Waiter Enqueue(string holder, int weight, TimeSpan ttl)
    {
        var waiter = new Waiter(holder, weight, ttl);
        if (!_waitersByHolder.TryGetValue(holder, out var queue))
        {
            queue = new Queue<Waiter>();
            _waitersByHolder[holder] = queue;
            _rotation.AddLast(holder);
        }

        queue.Enqueue(waiter);
        Waiting++;
        Pump();
        return waiter;
    }

    /// <summary>Removes a waiter that gave up. Returns false when it was already granted (the caller owns the lease).</summary>
    public bool Abandon(Waiter waiter, bool timedOut)
    {
        if (waiter.Task.IsCompleted || !_waitersByHolder.TryGetValue(waiter.Holder, out var queue))
        {
            return false;
        }

        var kept = new Queue<Waiter>(queue.Count);
        var found = false;
        foreach (var w in queue)
        {
            if (ReferenceEquals(w, waiter))
            {
                found = true;
            }
            else
            {
                kept.Enqueue(w);
            }
        }

        if (!found)
        {
            return false;
        }

        Waiting--;
        if (timedOut)
        {
            Timeouts++;
        }

        if (kept.Count == 0)
        {
            _waitersByHolder.Remove(waiter.Holder);
            _rotation.Remove(waiter.Holder);
        }
        else
        {
            _waitersByHolder[waiter.Holder] = kept;
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

        InUse -= entry.Lease.Weight;
        Pump();
        return true;
    }

    /// <summary>Extends a live lease by its TTL; null when unknown or expired.</summary>
    public Lease? Renew(string leaseId)
    {
        ExpireDue();
        if (!_leases.TryGetValue(leaseId, out var entry))
        {
            return null;
        }

        var renewed = entry.Lease with { ExpiresAt = time.GetUtcNow() + entry.Lease.Ttl };
        _leases[leaseId] = entry with { Lease = renewed };
        return renewed;
    }

    /// <summary>Returns the permits of every lease past its expiry. Returns how many expired.</summary>
    public int ExpireDue()
    {
        var now = time.GetUtcNow();
        List<string>? expired = null;
        foreach (var (id, entry) in _leases)
        {
            if (entry.Lease.ExpiresAt <= now)
            {
                (expired ??= []).Add(id);
            }
        }

        if (expired is null)
        {
            return 0;
        }

        foreach (var id in expired)
        {
            InUse -= _leases[id].Lease.Weight;
            _leases.Remove(id);
        }

        Expirations += expired.Count;
        Pump();
        return expired.Count;
    }

    /// <summary>Changes the limit; raising grants waiters at once, lowering only withholds new grants.</summary>
    public void SetMaxConcurrency(int maxConcurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        MaxConcurrency = maxConcurrency;
        Pump();
    }

    /// <summary>Grants waiters while the holder at the head of the rotation fits.</summary>
    public void Pump()
    {
        while (_rotation.First is { } node)
        {
            var queue = _waitersByHolder[node.Value];
            var head = queue.Peek();
            if (InUse + head.Weight > MaxConcurrency)
            {
                return;
            }

            queue.Dequeue();
            Waiting--;
            _rotation.RemoveFirst();
            if (queue.Count > 0)
            {
                _rotation.AddLast(node);
            }
            else
            {
                _waitersByHolder.Remove(node.Value);
            }

            head.Complete(Grant(head.Holder, head.Weight, head.Ttl));
        }
    }

    public LimiterStatus Snapshot(LimitSource source)
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
        };
    }

    /// <summary>The order in which waiters would be granted if permits were plentiful.</summary>
    public IReadOnlyList<WaiterStatus> WaitersInGrantOrder()
    {
        var queues = _rotation.Select(h => _waitersByHolder[h].ToArray()).ToList();
        var result = new List<WaiterStatus>(Waiting);
        for (var round = 0; result.Count < Waiting; round++)
        {
            foreach (var queue in queues)
            {
                if (round < queue.Length)
                {
                    result.Add(new WaiterStatus(queue[round].Holder, result.Count, queue[round].Weight));
                }
            }
        }

        return result;
    }

    private Lease Grant(string holder, int weight, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        var id = Guid.NewGuid().ToString("N");
        var lease = new Lease(id, Name, holder, weight, now + ttl, ttl);
        _leases[id] = new LeaseEntry(lease, now);
        InUse += weight;
        HighWaterMark = Math.Max(HighWaterMark, InUse);
        Grants++;
        return lease;
    }

    private sealed record LeaseEntry(Lease Lease, DateTimeOffset GrantedAt);

    /// <summary>A queued acquire.</summary>
    internal sealed class Waiter(string holder, int weight, TimeSpan ttl)
    {
        private readonly TaskCompletionSource<Lease> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Holder { get; } = holder;

        public int Weight { get; } = weight;

        public TimeSpan Ttl { get; } = ttl;

        public Task<Lease> Task => _completion.Task;

        internal void Complete(Lease lease) => _completion.TrySetResult(lease);

        internal void Cancel() => _completion.TrySetCanceled();
    }
}
