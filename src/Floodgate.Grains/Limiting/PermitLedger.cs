using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// The limiter's bookkeeping without Orleans: leases, the waiter queue, the rate window and the grant rule. Every method
/// is synchronous so the reentrant grain can call it between awaits without races.
/// Grant rule: a grant needs concurrency permits (under the upstream backoff's reduced limit while the upstream pushes
/// back, and none while it asked everyone to wait), and, with a rate budget, room in the rate window for its weight, and,
/// with a token budget, room in the token window for its estimated tokens.
/// Waiters are served by priority class (strictly), then round-robin across holders, FIFO within a holder; the waiter at
/// the head is never skipped, so a heavy (weight &gt; 1) waiter cannot be starved by light ones.
/// Durability: <see cref="Version"/> grows with every change worth persisting; <see cref="SnapshotLeases"/> and
/// <see cref="Restore"/> carry the lease table and rate window from one activation to the next.
/// Detached waiters: the grain holds an acquire call only for a slice of its wait and then answers "still queued"; the
/// waiter keeps its place, detached, until its caller calls again with the same request id (<see cref="Waiter.Attach"/>).
/// A waiter whose caller does not come back, and a grant made to it that nobody picks up, are dropped after a grace time
/// (<see cref="DropAbandoned"/>).
/// </summary>
internal sealed class PermitLedger(string name, TimeProvider time)
{
    /// <summary>How long a cancelled request id is remembered, so an acquire arriving after its cancel is refused.</summary>
    public static readonly TimeSpan CancelledRequestMemory = TimeSpan.FromMinutes(10);

    private static readonly AcquirePriority[] ClassesHighFirst = [AcquirePriority.High, AcquirePriority.Normal, AcquirePriority.Low];

    private readonly Dictionary<string, LeaseEntry> _leases = new(StringComparer.Ordinal);

    // Expiry index with lazy deletion: an entry is stale when its lease is gone or was renewed to a later expiry. It is
    // rebuilt from the live leases whenever stale entries outnumber them, so its size stays O(leases).
    private PriorityQueue<string, DateTimeOffset> _expiries = new();
    private readonly Dictionary<string, string> _leaseByRequest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Waiter> _waiterByRequest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _cancelledRequests = new(StringComparer.Ordinal);

    // Grants made to detached waiters, by request id, with the time of the grant and of the waiter's first call: delivered
    // when the caller calls again.
    private readonly Dictionary<string, (DateTimeOffset GrantedAt, DateTimeOffset AskedAt)> _undelivered = new(StringComparer.Ordinal);
    private readonly Dictionary<(AcquirePriority, string), Queue<Waiter>> _queues = [];
    private readonly Dictionary<AcquirePriority, LinkedList<string>> _rotations = ClassesHighFirst.ToDictionary(c => c, _ => new LinkedList<string>());
    private readonly RateWindow _rate = new(time);
    private readonly RateWindow _tokens = new(time);
    private readonly UpstreamBackoff _backoff = new(time);
    private readonly Dictionary<string, UsageTally> _usage = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public int MaxConcurrency { get; private set; } = FloodgateDefaults.MaxConcurrency;

    public int InUse { get; private set; }

    public int Waiting { get; private set; }

    public int HighWaterMark { get; private set; }

    public long Grants { get; private set; }

    public long Timeouts { get; private set; }

    public long Expirations { get; private set; }

    /// <summary>Leases taken over from the previous activation's persisted table.</summary>
    public long Restored { get; private set; }

    /// <summary>Grows with every change of the lease table or the rate window: a write is due when it moved.</summary>
    public long Version { get; private set; }

    public int LeaseCount => _leases.Count;

    /// <summary>Entries in the expiry index, stale ones included (bounded by about twice the leases).</summary>
    public int ExpiryIndexSize => _expiries.Count;

    public RateWindow Rate => _rate;

    /// <summary>The tokens-per-minute window (no budget unless <see cref="SetTokenRate"/> set one).</summary>
    public RateWindow Tokens => _tokens;

    /// <summary>How the cluster backs off while the upstream pushes back.</summary>
    public UpstreamBackoff Backoff => _backoff;

    /// <summary>The concurrency granted up to now: <see cref="MaxConcurrency"/>, or less while backing off.</summary>
    public int EffectiveMaxConcurrency => _backoff.Effective(MaxConcurrency);

    /// <summary>True once this activation stopped granting for good (fenced by another activation, or handed over).</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// When the head waiter is blocked by time — the rate or token window, or an upstream's pause — the moment to pump
    /// again; null otherwise (a release pumps by itself).
    /// </summary>
    public DateTimeOffset? WakeAt
    {
        get
        {
            if (Waiting == 0 || Stopped || Head() is not { } head)
            {
                return null;
            }

            DateTimeOffset? at = _rate.NextFreeAt(head.Weight);
            if (_tokens.NextFreeAt(head.Tokens) is { } tokensFree && (at is null || tokensFree > at))
            {
                at = tokensFree;
            }

            if (_backoff.IsPaused && (at is null || _backoff.PausedUntil > at))
            {
                at = _backoff.PausedUntil;
            }

            return at;
        }
    }

    /// <summary>Grants immediately when nobody waits, nothing is stopped and permits, rate and token room are free.</summary>
    public Lease? TryAcquire(string holder, int weight, TimeSpan ttl, string? requestId = null, int tokens = 0)
    {
        if (Waiting > 0 || !CanGrant(weight, tokens))
        {
            return null;
        }

        return Grant(holder, weight, ttl, requestId, tokens);
    }

    /// <summary>True when a grant of <paramref name="weight"/> could ever happen under the current limits.</summary>
    public bool CouldEverGrant(int weight) => weight >= 1 && weight <= MaxConcurrency && _rate.CouldEverGrant(weight);

    /// <summary>True when an estimate of <paramref name="tokens"/> could ever fit the token budget.</summary>
    public bool CouldEverCharge(int tokens) => tokens >= 0 && _tokens.CouldEverGrant(tokens);

    /// <summary>True when <paramref name="requestId"/> was cancelled: an acquire with it must grant nothing.</summary>
    public bool IsCancelled(string requestId)
    {
        ForgetOldCancellations();
        return _cancelledRequests.ContainsKey(requestId);
    }

    /// <summary>True while <paramref name="leaseId"/> is held (granted, not released, not expired).</summary>
    public bool Holds(string leaseId) => _leases.TryGetValue(leaseId, out var entry) && entry.Lease.ExpiresAt > time.GetUtcNow();

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

    /// <summary>
    /// Queues a waiter that gives up after <paramref name="wait"/> (null: never by itself); it completes when
    /// <see cref="Pump"/> grants it.
    /// </summary>
    public Waiter Enqueue(
        string holder,
        int weight,
        TimeSpan ttl,
        AcquirePriority priority = AcquirePriority.Normal,
        string? requestId = null,
        int tokens = 0,
        TimeSpan? wait = null)
    {
        var now = time.GetUtcNow();
        var waiter = new Waiter(holder, weight, ttl, priority, requestId, tokens)
        {
            EnqueuedAt = now,
            Deadline = wait is { } w ? now + w : DateTimeOffset.MaxValue,
        };
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

    /// <summary>The waiter's call ended while it still waits: it keeps its place until its caller calls again.</summary>
    public void Detach(Waiter waiter) => waiter.DetachedAt = time.GetUtcNow();

    /// <summary>
    /// The lease granted to <paramref name="requestId"/> reaches its caller. Returns when that caller first asked, if the
    /// lease was granted while it was detached (its first delivery); null for a repeated delivery.
    /// </summary>
    public DateTimeOffset? Delivered(string requestId) => _undelivered.Remove(requestId, out var grant) ? grant.AskedAt : null;

    /// <summary>
    /// Drops what callers left behind: waiters detached for longer than <paramref name="grace"/> or past their deadline,
    /// and grants made to detached waiters that nobody picked up within <paramref name="grace"/> (released). Returns how
    /// many waiters and grants were dropped.
    /// </summary>
    public (int Waiters, int Grants) DropAbandoned(TimeSpan grace)
    {
        var now = time.GetUtcNow();
        var waiters = 0;
        foreach (var waiter in _waiterByRequest.Values.Where(w => w.DetachedAt is { } at && (at + grace <= now || w.Deadline <= now)).ToList())
        {
            if (Abandon(waiter, timedOut: waiter.Deadline <= now))
            {
                waiters++;
            }
        }

        var grants = 0;
        foreach (var requestId in _undelivered.Where(u => u.Value.GrantedAt + grace <= now).Select(u => u.Key).ToList())
        {
            _undelivered.Remove(requestId);
            if (_leaseByRequest.TryGetValue(requestId, out var leaseId) && Release(leaseId))
            {
                grants++;
            }
        }

        return (waiters, grants);
    }

    /// <summary>Releases a lease. Returns false when it is unknown or already gone.</summary>
    public bool Release(string leaseId)
    {
        if (!Remove(leaseId))
        {
            return false;
        }

        Pump();
        return true;
    }

    /// <summary>Extends a live lease by its TTL; null when unknown or expired, or held by someone else than <paramref name="holder"/>.</summary>
    public Lease? Renew(string leaseId, string? holder = null)
    {
        ExpireDue();
        if (!_leases.TryGetValue(leaseId, out var entry) || (holder is not null && !string.Equals(holder, entry.Lease.Holder, StringComparison.Ordinal)))
        {
            return null;
        }

        var renewed = entry.Lease with { ExpiresAt = time.GetUtcNow() + entry.Lease.Ttl };
        _leases[leaseId] = new LeaseEntry(renewed, entry.GrantedAt, entry.RequestId);
        IndexExpiry(renewed);
        Version++;
        return renewed;
    }

    /// <summary>Returns the permits of every lease past its expiry. Returns how many expired. O(expired · log n).</summary>
    public int ExpireDue()
    {
        var now = time.GetUtcNow();
        var expired = 0;
        while (_expiries.TryPeek(out var leaseId, out var at) && at <= now)
        {
            _expiries.Dequeue();
            if (_leases.TryGetValue(leaseId, out var entry) && entry.Lease.ExpiresAt <= now)
            {
                Remove(leaseId);
                expired++;
            }
        }

        Expirations += expired;
        if (expired > 0)
        {
            Pump();
        }

        return expired;
    }

    /// <summary>
    /// Changes the limit; raising grants waiters at once, lowering only withholds new grants. Waiters asking for more
    /// permits than the new limit could ever grant fail at once (they would block the queue forever).
    /// </summary>
    public void SetMaxConcurrency(int maxConcurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        MaxConcurrency = maxConcurrency;
        FailUnservableWaiters();
        Pump();
    }

    /// <summary>Sets or removes the requests-per-minute budget; waiters heavier than a new budget fail at once.</summary>
    public void SetRate(int? requestsPerMinute, double safetyFactor)
    {
        _rate.Configure(requestsPerMinute, safetyFactor);
        FailUnservableWaiters();
        Pump();
    }

    /// <summary>Sets or removes the tokens-per-minute budget; waiters whose estimate exceeds a new budget fail at once.</summary>
    public void SetTokenRate(int? tokensPerMinute, double safetyFactor)
    {
        _tokens.Configure(tokensPerMinute, safetyFactor);
        FailUnservableWaiters();
        Pump();
    }

    /// <summary>
    /// Applies a caller's report of an upstream call: settles the lease's token charge with the real usage, feeds the
    /// upstream's pushback to the backoff, and tallies the holder's usage. Returns true when grants may be affected
    /// (and a write is due).
    /// </summary>
    public bool ReportUsage(UsageReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        Tally(report);
        var changed = false;
        if (report.LeaseId is { } leaseId && report.Tokens is { } tokens)
        {
            changed |= _tokens.Settle(leaseId, tokens);
        }

        if (report.Outcome != UsageOutcome.Rejected)
        {
            DateTimeOffset? grantedAt = report.LeaseId is { } id && _leases.TryGetValue(id, out var entry) ? entry.GrantedAt : null;
            changed |= _backoff.OnAnswer(report.Outcome, report.Signal, grantedAt, MaxConcurrency, InUse);
        }

        if (changed)
        {
            Version++;
            Pump();
        }

        return changed;
    }

    /// <summary>Usage tallied by holder, most requests first.</summary>
    public IReadOnlyList<HolderUsage> Usage() =>
        _usage.Select(u => new HolderUsage(u.Key, u.Value.Requests, u.Value.Tokens, u.Value.Rejected, u.Value.UpstreamRateLimited))
            .OrderByDescending(u => u.Requests + u.Rejected)
            .ThenBy(u => u.Holder, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Takes over the persisted lease table and rate window of an earlier activation. Each lease counts until its
    /// persisted expiry (every grant and renewal was written before it was answered) unless its holder releases or
    /// renews it first.
    /// </summary>
    public void Restore(IEnumerable<PersistedLease> leases, IEnumerable<RateBucket> rateHistory)
    {
        foreach (var persisted in leases)
        {
            var lease = new Lease(persisted.LeaseId, Name, persisted.Holder, persisted.Weight, persisted.ExpiresAt, persisted.Ttl);
            Add(new LeaseEntry(lease, persisted.GrantedAt, persisted.RequestId));
            Restored++;
        }

        _rate.Restore(rateHistory);
        ExpireDue();
    }

    /// <summary>Takes over an earlier activation's token window and backoff (persisted with the lease table).</summary>
    public void RestoreUpstreamState(IEnumerable<RateBucket> tokenHistory, int? backoffLimit, DateTimeOffset? pausedUntil)
    {
        _tokens.Restore(tokenHistory);
        _backoff.Restore(backoffLimit, pausedUntil);
        Pump();
    }

    /// <summary>The lease table as persisted.</summary>
    public List<PersistedLease> SnapshotLeases() => _leases.Values.Select(e => e.Persisted).ToList();

    /// <summary>The lease table as stored (<see cref="LeaseTableCodec"/>): each lease's bytes are made once and then joined.</summary>
    public byte[] EncodeLeases() => LeaseTableCodec.Join(_leases.Values.Select(e => e.Encoded).ToList());

    /// <summary>
    /// Stops granting for good and fails every waiter with <paramref name="reason"/>: another activation owns the limiter
    /// now, or this one is handing over to a successor. Renewals and releases still apply (they are handed over too).
    /// </summary>
    public void StopGranting(Func<Exception> reason)
    {
        Stopped = true;
        FailWaiters(_ => true, _ => reason());
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
                if (!CanGrant(head.Weight, head.Tokens))
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

                ForgetWaiter(head);
                if (head.DetachedAt is not null && head.RequestId is { } requestId)
                {
                    _undelivered[requestId] = (time.GetUtcNow(), head.EnqueuedAt);
                }

                head.Complete(Grant(head.Holder, head.Weight, head.Ttl, head.RequestId, head.Tokens));
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
            Available = Math.Max(0, EffectiveMaxConcurrency - InUse),
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
            Epoch = epoch,
            Restored = Restored,
            TokensPerMinute = _tokens.RequestsPerMinute,
            TokenBudget = _tokens.Budget,
            TokensAvailable = _tokens.Available,
            EffectiveMaxConcurrency = EffectiveMaxConcurrency,
            PausedUntil = _backoff.IsPaused ? _backoff.PausedUntil : null,
            Usage = Usage(),
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

    private bool CanGrant(int weight, int tokens) =>
        !Stopped && InUse + weight <= EffectiveMaxConcurrency && _rate.CanGrant(weight) && _tokens.CanGrant(tokens) && !_backoff.IsPaused;

    private Waiter? Head()
    {
        foreach (var priority in ClassesHighFirst)
        {
            if (_rotations[priority].First is { } node)
            {
                return _queues[(priority, node.Value)].Peek();
            }
        }

        return null;
    }

    private void FailUnservableWaiters() => FailWaiters(
        w => !CouldEverGrant(w.Weight) || !CouldEverCharge(w.Tokens),
        w => new FloodgateValidationException(
            $"Weight {w.Weight} ({w.Tokens} tokens) can never be granted by '{Name}' under its new limits (max concurrency {MaxConcurrency}, rate budget {_rate.Budget?.ToString() ?? "none"} per minute, token budget {_tokens.Budget?.ToString() ?? "none"} per minute)."));

    private void Tally(UsageReport report)
    {
        if (!_usage.TryGetValue(report.Holder, out var tally))
        {
            if (_usage.Count >= LimiterConstants.MaxUsageHolders)
            {
                _usage.Remove(_usage.MinBy(u => u.Value.LastReportAt).Key);
            }

            tally = new UsageTally();
            _usage[report.Holder] = tally;
        }

        tally.LastReportAt = time.GetUtcNow();
        switch (report.Outcome)
        {
            case UsageOutcome.Rejected:
                tally.Rejected++;
                return;
            case UsageOutcome.UpstreamRateLimited:
                tally.UpstreamRateLimited++;
                break;
        }

        tally.Requests++;
        tally.Tokens += report.Tokens ?? 0;
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
        removed.ForEach(ForgetWaiter);
        return removed;
    }

    private void ForgetWaiter(Waiter waiter)
    {
        if (waiter.RequestId is { } requestId && _waiterByRequest.TryGetValue(requestId, out var known) && ReferenceEquals(known, waiter))
        {
            _waiterByRequest.Remove(requestId);
        }
    }

    private void ForgetOldCancellations()
    {
        if (_cancelledRequests.Count == 0)
        {
            return;
        }

        var horizon = time.GetUtcNow() - CancelledRequestMemory;
        foreach (var id in _cancelledRequests.Where(c => c.Value <= horizon).Select(c => c.Key).ToList())
        {
            _cancelledRequests.Remove(id);
        }
    }

    private Lease Grant(string holder, int weight, TimeSpan ttl, string? requestId, int tokens)
    {
        var now = time.GetUtcNow();
        var lease = new Lease(Guid.NewGuid().ToString("N"), Name, holder, weight, now + ttl, ttl);
        Add(new LeaseEntry(lease, now, requestId));
        Grants++;
        _rate.Record(weight);
        _tokens.Record(tokens, lease.LeaseId);
        return lease;
    }

    private void Add(LeaseEntry entry)
    {
        var lease = entry.Lease;
        _leases[lease.LeaseId] = entry;
        IndexExpiry(lease);
        if (entry.RequestId is { } requestId)
        {
            _leaseByRequest[requestId] = lease.LeaseId;
        }

        InUse += lease.Weight;
        HighWaterMark = Math.Max(HighWaterMark, InUse);
        Version++;
    }

    /// <summary>Indexes a lease already in the table under its current expiry.</summary>
    private void IndexExpiry(Lease lease)
    {
        if (_expiries.Count > 2 * _leases.Count + 64)
        {
            // The rebuild indexes every live lease, this one included.
            _expiries = new PriorityQueue<string, DateTimeOffset>(_leases.Values.Select(e => (e.Lease.LeaseId, e.Lease.ExpiresAt)));
            return;
        }

        _expiries.Enqueue(lease.LeaseId, lease.ExpiresAt);
    }

    private bool Remove(string leaseId)
    {
        if (!_leases.Remove(leaseId, out var entry))
        {
            return false;
        }

        if (entry.RequestId is { } requestId)
        {
            _leaseByRequest.Remove(requestId);
            _undelivered.Remove(requestId);
        }

        InUse -= entry.Lease.Weight;
        Version++;
        return true;
    }

    /// <summary>A lease in the table, with its persisted form and bytes made once (the table is written on every group commit).</summary>
    private sealed class LeaseEntry(Lease lease, DateTimeOffset grantedAt, string? requestId)
    {
        private byte[]? _encoded;

        public Lease Lease { get; } = lease;

        public DateTimeOffset GrantedAt { get; } = grantedAt;

        public string? RequestId { get; } = requestId;

        public PersistedLease Persisted { get; } = new(lease.LeaseId, lease.Holder, lease.Weight, lease.Ttl, lease.ExpiresAt, grantedAt, requestId);

        /// <summary>The lease's bytes in the stored table, made at the first write that includes it.</summary>
        public byte[] Encoded => _encoded ??= LeaseTableCodec.Encode(Persisted);
    }

    private sealed class UsageTally
    {
        public long Requests { get; set; }

        public long Tokens { get; set; }

        public long Rejected { get; set; }

        public long UpstreamRateLimited { get; set; }

        public DateTimeOffset LastReportAt { get; set; }
    }

    /// <summary>A queued acquire.</summary>
    internal sealed class Waiter(string holder, int weight, TimeSpan ttl, AcquirePriority priority, string? requestId = null, int tokens = 0)
    {
        private readonly TaskCompletionSource<Lease> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource<Lease?>? _call;

        public string Holder { get; } = holder;

        public int Weight { get; } = weight;

        public TimeSpan Ttl { get; } = ttl;

        public AcquirePriority Priority { get; } = priority;

        public string? RequestId { get; } = requestId;

        public int Tokens { get; } = tokens;

        /// <summary>When the waiter was queued.</summary>
        public DateTimeOffset EnqueuedAt { get; init; }

        /// <summary>When the waiter gives up.</summary>
        public DateTimeOffset Deadline { get; init; } = DateTimeOffset.MaxValue;

        /// <summary>Since when no call waits for this waiter (null while one does).</summary>
        public DateTimeOffset? DetachedAt { get; internal set; }

        public Task<Lease> Task => _completion.Task;

        /// <summary>
        /// Its caller is back (an acquire with its request id). <paramref name="call"/>, when given, gets the waiter's
        /// outcome — the grant, a failure or a cancellation — as soon as there is one (at once if there already is), so
        /// the waiting call continues straight from the grant, not through a task wrapped around <see cref="Task"/>;
        /// whoever owns it may end it sooner (null: the call's slice is over).
        /// </summary>
        internal void Attach(TaskCompletionSource<Lease?>? call = null)
        {
            DetachedAt = null;
            _call = call;
            if (call is null || !_completion.Task.IsCompleted)
            {
                return;
            }

            if (_completion.Task.IsCompletedSuccessfully)
            {
                call.TrySetResult(_completion.Task.Result);
            }
            else if (_completion.Task.IsCanceled)
            {
                call.TrySetCanceled();
            }
            else
            {
                call.TrySetException(_completion.Task.Exception!.InnerExceptions);
            }
        }

        internal void Complete(Lease lease)
        {
            _completion.TrySetResult(lease);
            _call?.TrySetResult(lease);
        }

        internal void Cancel()
        {
            _completion.TrySetCanceled();
            _call?.TrySetCanceled();
        }

        internal void Fail(Exception error)
        {
            _completion.TrySetException(error);
            _call?.TrySetException(error);
        }
    }
}
