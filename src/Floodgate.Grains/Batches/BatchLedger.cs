using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>
/// The bookkeeping of one batch, free of Orleans: each item's status and the counters, the completed prefix and the
/// part of it that is durable (all readers may see), the dispatch cursor and the durable dispatch reservation (a
/// successor knows every position that may have been dispatched), and the positions in flight.
/// <para>
/// Writes are snapshots: <see cref="Snapshot"/> captures what to write, <see cref="Written"/> makes it durable here.
/// Nothing is dispatched beyond a durable reservation, and nothing is readable beyond the durable prefix.
/// </para>
/// </summary>
internal sealed class BatchLedger
{
    private readonly ItemStatus[] _status;
    private readonly ItemOutcome?[] _outcomes;
    private readonly Dictionary<int, Dispatch> _dispatched = [];
    private readonly HashSet<int> _unconfirmed = [];
    private readonly SortedSet<int> _requeued = [];
    private readonly int _baseReservation;
    private readonly TimeProvider _time;
    private int _reservationStep;
    private bool _reservationExhausted;
    private int _cursor;
    private long _lastDispatchId;
    private long _changes;
    private long _durableChanges;

    private BatchLedger(IReadOnlyList<ItemOutcome?> outcomes, int reservation, int baseReservation, TimeProvider time)
    {
        _status = new ItemStatus[outcomes.Count];
        _outcomes = new ItemOutcome?[outcomes.Count];
        _baseReservation = _reservationStep = Math.Max(1, baseReservation);
        _time = time;
        DurableReservation = Math.Clamp(reservation, 0, outcomes.Count);
        _cursor = DurableReservation;
        Pending = outcomes.Count;
    }

    public int Total => _status.Length;

    /// <summary>Not dispatched (including positions to run again).</summary>
    public int Pending { get; private set; }

    /// <summary>Dispatched and known to be (or just sent to be) running.</summary>
    public int InFlight { get; private set; }

    /// <summary>Positions a predecessor may have left running: they count against the local limit until probed.</summary>
    public int Unconfirmed => _unconfirmed.Count;

    public int Succeeded { get; private set; }

    public int Failed { get; private set; }

    public int Cancelled { get; private set; }

    public int Done => Succeeded + Failed + Cancelled;

    public bool CancelRequested { get; private set; }

    /// <summary>Every position below it has an outcome.</summary>
    public int CompletedPrefix { get; private set; }

    /// <summary>Every position below it has an outcome that is in storage: what readers may see.</summary>
    public int DurablePrefix { get; private set; }

    /// <summary>Positions below it may be dispatched without another write.</summary>
    public int DurableReservation { get; private set; }

    public bool IsComplete => CompletedPrefix == Total;

    /// <summary>Something a successor must know is not in storage yet (an outcome, the cancel, or more reservation is due).</summary>
    public bool HasUnwrittenChanges => _changes > _durableChanges || ReservationDue;

    /// <summary>Dispatch is near (or at) the end of the durable reservation while positions remain to dispatch.</summary>
    private bool ReservationDue =>
        !CancelRequested && DurableReservation < Total && _cursor + (_reservationStep + 1) / 2 >= DurableReservation;

    /// <summary>
    /// Rebuilds a ledger from storage. Every position without an outcome that may have been dispatched (below the
    /// reservation, or in flight when written) is unconfirmed until <see cref="Confirm"/> or <see cref="Requeue"/>.
    /// </summary>
    public static BatchLedger Restore(BatchRecord record, int baseReservation, TimeProvider time)
    {
        var ledger = new BatchLedger(record.Outcomes, record.DispatchReservation, baseReservation, time);
        ledger.CancelRequested = record.CancelRequested;
        var wasInFlight = record.InFlight.ToHashSet();
        var now = time.GetUtcNow();
        for (var position = 0; position < ledger.Total; position++)
        {
            if (record.Outcomes[position] is { } outcome)
            {
                ledger.Apply(outcome);
            }
            else if (position < ledger.DurableReservation || wasInFlight.Contains(position))
            {
                ledger._status[position] = ItemStatus.InFlight;
                ledger._dispatched[position] = new Dispatch(++ledger._lastDispatchId, now);
                ledger._unconfirmed.Add(position);
                ledger.Pending--;
            }
        }

        ledger.DurablePrefix = ledger.CompletedPrefix;
        return ledger;
    }

    public ItemStatus StatusOf(int position) => _status[position];

    public ItemOutcome? OutcomeOf(int position) => _outcomes[position];

    /// <summary>The outcomes from <paramref name="from"/> that readers may see, at most <paramref name="maxCount"/>.</summary>
    public IReadOnlyList<ItemOutcome> ReadDurable(int from, int maxCount)
    {
        var end = Math.Min(DurablePrefix, from + maxCount);
        var page = new List<ItemOutcome>(Math.Max(0, end - from));
        for (var position = from; position < end; position++)
        {
            page.Add(_outcomes[position]!);
        }

        return page;
    }

    /// <summary>
    /// Takes the next position to dispatch when fewer than <paramref name="limit"/> may be running: positions to run
    /// again first, then the cursor, but never at or beyond the durable reservation.
    /// </summary>
    public bool TryDispatch(int limit, out int position)
    {
        position = -1;
        if (CancelRequested || InFlight + Unconfirmed >= limit)
        {
            return false;
        }

        if (_requeued.Count > 0)
        {
            position = _requeued.Min;
            _requeued.Remove(position);
        }
        else
        {
            while (_cursor < Total && _status[_cursor] != ItemStatus.Pending)
            {
                _cursor++;
            }

            if (_cursor >= Total)
            {
                return false;
            }

            if (_cursor >= DurableReservation)
            {
                // Dispatch outran the writes (not merely waiting for the first one): reserve more at a time from now on.
                _reservationExhausted = DurableReservation > 0;
                return false;
            }

            position = _cursor++;
        }

        _status[position] = ItemStatus.InFlight;
        _dispatched[position] = new Dispatch(++_lastDispatchId, _time.GetUtcNow());
        Pending--;
        InFlight++;
        return true;
    }

    /// <summary>Records an item's one outcome; false when the position is unknown or already has one.</summary>
    public bool Record(ItemOutcome outcome)
    {
        if (outcome.Position < 0 || outcome.Position >= Total || _outcomes[outcome.Position] is not null)
        {
            return false;
        }

        Apply(outcome);
        _changes++;
        return true;
    }

    /// <summary>A probe of dispatch <paramref name="dispatchId"/> found the item running: it counts as in flight and will report.</summary>
    public void Confirm(int position, long dispatchId)
    {
        if (!IsCurrent(position, dispatchId))
        {
            return;
        }

        if (_unconfirmed.Remove(position))
        {
            InFlight++;
        }

        // Checked again one interval from now.
        _dispatched[position] = new Dispatch(dispatchId, _time.GetUtcNow());
    }

    /// <summary>
    /// The item is not running and never reported (a lost start, a probe of an idle grain, an interrupted run): it runs
    /// again, or ends Cancelled after a cancel. <paramref name="dispatchId"/> (the dispatch the news is about) null
    /// applies to whatever dispatch. False when the news is stale (the position has an outcome or was dispatched again).
    /// </summary>
    public bool Requeue(int position, long? dispatchId)
    {
        if (position < 0 || position >= Total || _status[position] != ItemStatus.InFlight
            || (dispatchId is { } id && !IsCurrent(position, id)))
        {
            return false;
        }

        if (CancelRequested)
        {
            return Record(ItemOutcome.Cancelled(position, 0));
        }

        LeaveInFlight(position);
        _status[position] = ItemStatus.Pending;
        _requeued.Add(position);
        Pending++;
        return true;
    }

    /// <summary>Positions dispatched (or last confirmed) at or before <paramref name="before"/>, and all unconfirmed ones, with their dispatch id.</summary>
    public IReadOnlyList<(int Position, long DispatchId)> InFlightSince(DateTimeOffset before) =>
        _dispatched.Where(d => d.Value.At <= before || _unconfirmed.Contains(d.Key)).Select(d => (d.Key, d.Value.Id)).ToList();

    /// <summary>The id of the position's current dispatch, or null when it is not in flight.</summary>
    public long? DispatchIdOf(int position) => _dispatched.TryGetValue(position, out var dispatch) ? dispatch.Id : null;

    /// <summary>Every position dispatched and without an outcome, with its dispatch id.</summary>
    public IReadOnlyList<(int Position, long DispatchId)> Dispatched() =>
        _dispatched.Select(d => (d.Key, d.Value.Id)).ToList();

    /// <summary>Stops dispatch and ends every position not dispatched Cancelled; returns the positions in flight.</summary>
    public IReadOnlyList<int> Cancel()
    {
        if (!CancelRequested)
        {
            CancelRequested = true;
            _changes++;
        }

        for (var position = 0; position < Total; position++)
        {
            if (_status[position] == ItemStatus.Pending)
            {
                Record(ItemOutcome.Cancelled(position, 0));
            }
        }

        _requeued.Clear();
        return [.. _dispatched.Keys];
    }

    /// <summary>What the next write stores (and, once it succeeded, what <see cref="Written"/> makes durable here).</summary>
    public LedgerSnapshot Snapshot()
    {
        if (_reservationExhausted)
        {
            _reservationStep = Math.Min(_reservationStep * 2, Math.Max(_baseReservation, BatchConstants.MaxDispatchReservation));
            _reservationExhausted = false;
        }

        var reservation = CancelRequested
            ? DurableReservation
            : Math.Max(DurableReservation, Math.Min(Total, _cursor + _reservationStep));
        return new LedgerSnapshot([.. _outcomes], [.. _dispatched.Keys], reservation, CompletedPrefix, CancelRequested, _changes);
    }

    /// <summary>The write of <paramref name="snapshot"/> succeeded.</summary>
    public void Written(LedgerSnapshot snapshot)
    {
        DurablePrefix = Math.Max(DurablePrefix, snapshot.CompletedPrefix);
        DurableReservation = Math.Max(DurableReservation, snapshot.Reservation);
        _durableChanges = Math.Max(_durableChanges, snapshot.Changes);
    }

    private bool IsCurrent(int position, long dispatchId) =>
        _dispatched.TryGetValue(position, out var dispatch) && dispatch.Id == dispatchId;

    private void Apply(ItemOutcome outcome)
    {
        var position = outcome.Position;
        switch (_status[position])
        {
            case ItemStatus.InFlight:
                LeaveInFlight(position);
                break;
            case ItemStatus.Pending:
                _requeued.Remove(position);
                Pending--;
                break;
        }

        _status[position] = outcome.Status;
        _outcomes[position] = outcome;
        switch (outcome.Status)
        {
            case ItemStatus.Succeeded:
                Succeeded++;
                break;
            case ItemStatus.Failed:
                Failed++;
                break;
            default:
                Cancelled++;
                break;
        }

        while (CompletedPrefix < Total && _outcomes[CompletedPrefix] is not null)
        {
            CompletedPrefix++;
        }
    }

    private void LeaveInFlight(int position)
    {
        _dispatched.Remove(position);
        if (!_unconfirmed.Remove(position))
        {
            InFlight--;
        }
    }
}

/// <summary>One dispatch of a position: news about an older dispatch of it is stale.</summary>
internal readonly record struct Dispatch(long Id, DateTimeOffset At);

/// <summary>What one write of a batch's record stores from its ledger.</summary>
internal sealed record LedgerSnapshot(
    List<ItemOutcome?> Outcomes,
    List<int> InFlight,
    int Reservation,
    int CompletedPrefix,
    bool CancelRequested,
    long Changes);
