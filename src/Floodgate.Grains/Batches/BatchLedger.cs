using Floodgate.Batches;

namespace Floodgate.Grains.Batches;

/// <summary>
/// The bookkeeping of one batch, free of Orleans and of storage: how many items arrived, each open position's status,
/// the counters, the durable prefix (all readers may see), the dispatch cursor and the durable dispatch reservation (a
/// successor knows every position that may have been dispatched), and the positions in flight.
/// <para>
/// Memory stays bounded by the open window, not by the batch: statuses are kept per chunk only from the chunk of the
/// durable prefix on, and positions the batch has not reached are described by the cursor alone. Outcomes themselves
/// live in <see cref="Chunks.OutcomeStore"/>; this class learns which are durable through <see cref="MarkDurable"/>.
/// </para>
/// <para>
/// The batch's record is a <see cref="Checkpoint"/> of this ledger; <see cref="Written"/> makes it durable here. Nothing
/// is dispatched beyond a durable reservation, and nothing is readable beyond the durable prefix.
/// </para>
/// </summary>
internal sealed class BatchLedger
{
    private const byte DurableFlag = 0x80;
    private const byte StatusMask = 0x7F;

    private readonly int _chunkSize;
    private readonly Dictionary<int, byte[]> _statuses = [];
    private readonly Dictionary<int, Dispatch> _dispatched = [];
    private readonly HashSet<int> _unconfirmed = [];
    private readonly SortedSet<int> _requeued = [];
    private readonly int _baseReservation;
    private readonly TimeProvider _time;
    private int _reservationStep;
    private bool _reservationExhausted;
    private int _cursor;
    private int _highestOutcome = -1;
    private long _lastDispatchId;
    private bool _cancelDurable;
    private LedgerCheckpoint _written;

    private BatchLedger(LedgerCheckpoint point, int chunkSize, int baseReservation, TimeProvider time)
    {
        _chunkSize = chunkSize;
        _baseReservation = _reservationStep = Math.Max(1, baseReservation);
        _time = time;
        Total = point.Received;
        Sealed = point.Sealed;
        DurablePrefix = Math.Clamp(point.DurablePrefix, 0, Total);
        (PrefixSucceeded, PrefixFailed, PrefixCancelled) = (point.PrefixSucceeded, point.PrefixFailed, point.PrefixCancelled);
        (Succeeded, Failed, Cancelled) = (PrefixSucceeded, PrefixFailed, PrefixCancelled);
        DurableReservation = Math.Clamp(point.Reservation, 0, Total);
        _cursor = DurableReservation;
        if (point.CancelledFrom is { } cancelledFrom)
        {
            CancelledFrom = Math.Clamp(cancelledFrom, 0, Total);
            _cancelDurable = true;
            Cancelled += Total - CancelledFrom.Value;
        }

        _written = Checkpoint(withReservation: false);
    }

    public int ChunkSize => _chunkSize;

    /// <summary>Items received so far (all of them once <see cref="Sealed"/>).</summary>
    public int Total { get; private set; }

    /// <summary>Every item has arrived.</summary>
    public bool Sealed { get; private set; }

    /// <summary>Chunks of items received (every chunk but the last holds exactly <see cref="ChunkSize"/> items).</summary>
    public int ReceivedChunks => (Total + _chunkSize - 1) / _chunkSize;

    /// <summary>Received, not dispatched and without an outcome (including positions to run again).</summary>
    public int Pending => Total - Done - InFlight - Unconfirmed;

    /// <summary>Dispatched and known to be (or just sent to be) running.</summary>
    public int InFlight { get; private set; }

    /// <summary>Positions a predecessor may have left running: they count against the local limit until probed.</summary>
    public int Unconfirmed => _unconfirmed.Count;

    public int Succeeded { get; private set; }

    public int Failed { get; private set; }

    public int Cancelled { get; private set; }

    public int Done => Succeeded + Failed + Cancelled;

    /// <summary>Positions from here on were never dispatched and are Cancelled without a stored outcome; null until a cancel.</summary>
    public int? CancelledFrom { get; private set; }

    public bool CancelRequested => CancelledFrom is not null;

    /// <summary>Every position below it has an outcome that is in storage: what readers may see.</summary>
    public int DurablePrefix { get; private set; }

    public int PrefixSucceeded { get; private set; }

    public int PrefixFailed { get; private set; }

    public int PrefixCancelled { get; private set; }

    /// <summary>Positions below it may be dispatched without another write of the record.</summary>
    public int DurableReservation { get; private set; }

    /// <summary>Every item arrived and has an outcome.</summary>
    public bool IsComplete => Sealed && Done == Total;

    /// <summary>Every item arrived and has an outcome in storage.</summary>
    public bool IsDurablyComplete => IsComplete && DurablePrefix == Total;

    /// <summary>Chunks whose statuses are held in memory (from the durable prefix on).</summary>
    public int OpenStatusChunks => _statuses.Count;

    /// <summary>
    /// The record is behind in a way that matters: more reservation is due, a cancel or arrived items are not in it, or
    /// the durable prefix moved a chunk or more past it (a successor would read more chunks than needed).
    /// </summary>
    public bool RecordIsBehind =>
        ReservationDue
        || (CancelRequested && !_cancelDurable)
        || Total != _written.Received || Sealed != _written.Sealed
        || DurablePrefix - _written.DurablePrefix >= _chunkSize
        || (DurablePrefix == Total && _written.DurablePrefix != Total);

    /// <summary>Dispatch is near (or at) the end of the durable reservation while positions remain to dispatch.</summary>
    private bool ReservationDue =>
        !CancelRequested && DurableReservation < Total && _cursor + ((_reservationStep + 1) / 2) >= DurableReservation;

    /// <summary>A new batch: nothing received, nothing reserved.</summary>
    public static BatchLedger Create(int chunkSize, int baseReservation, TimeProvider time) =>
        new(new LedgerCheckpoint(0, false, 0, 0, 0, 0, 0, null), chunkSize, baseReservation, time);

    /// <summary>
    /// Starts rebuilding a ledger from the batch's record. Then: <see cref="Receive"/> each items chunk stored after
    /// <see cref="LedgerCheckpoint.Received"/>, <see cref="RestoreChunk"/> each outcomes chunk from the durable prefix's up to
    /// the reservation's, and <see cref="CompleteRestore"/>.
    /// </summary>
    public static BatchLedger Resume(LedgerCheckpoint point, int chunkSize, int baseReservation, TimeProvider time) =>
        new(point, chunkSize, baseReservation, time);

    /// <summary>The outcome chunks a restore must read: those that may hold outcomes at or after the durable prefix.</summary>
    public (int First, int End) ChunksToRestore(bool all) =>
        all ? (0, ReceivedChunks) : (DurablePrefix / _chunkSize, (Math.Max(DurablePrefix, DurableReservation) + _chunkSize - 1) / _chunkSize);

    /// <summary>Outcomes stored in chunk <paramref name="chunk"/> (durable by definition).</summary>
    public void RestoreChunk(int chunk, IReadOnlyList<ItemOutcome?> outcomes)
    {
        var start = chunk * _chunkSize;
        for (var i = 0; i < outcomes.Count; i++)
        {
            var position = start + i;
            if (outcomes[i] is { } outcome && position >= DurablePrefix && position < Total && !(position >= CancelledFrom) && StatusAt(position) == 0)
            {
                SetStatus(position, (byte)((byte)outcome.Status | DurableFlag));
                Count(outcome.Status, 1);
                _highestOutcome = Math.Max(_highestOutcome, position);
            }
        }

        AdvanceDurablePrefix();
    }

    /// <summary>
    /// Ends a restore. Every position below the reservation without an outcome may have been dispatched by the lost
    /// activation: it is unconfirmed until <see cref="Confirm"/> or <see cref="Requeue"/>. After a retry's rebuild
    /// (<paramref name="afterRetry"/>) nothing was dispatched: dispatch starts over at the first position without an outcome.
    /// </summary>
    public void CompleteRestore(bool afterRetry)
    {
        AdvanceDurablePrefix();
        if (afterRetry)
        {
            DurableReservation = _cursor = DurablePrefix;
            return;
        }

        var now = _time.GetUtcNow();
        var end = Math.Min(DurableReservation, CancelledFrom ?? Total);
        for (var position = DurablePrefix; position < end; position++)
        {
            if (!HasOutcome(position))
            {
                _dispatched[position] = new Dispatch(++_lastDispatchId, now);
                _unconfirmed.Add(position);
            }
        }

        _cursor = DurableReservation;
    }

    /// <summary>Adds <paramref name="count"/> items that arrived (one chunk); <paramref name="last"/> seals the batch.</summary>
    public void Receive(int count, bool last)
    {
        if (Sealed)
        {
            throw new InvalidOperationException("The batch has all its items.");
        }

        Total += count;
        Sealed = last;
    }

    /// <summary>
    /// The status of a position at or after the durable prefix; null below it (those statuses are only in storage now).
    /// </summary>
    public ItemStatus? StatusOf(int position)
    {
        if (position < DurablePrefix)
        {
            return null;
        }

        if (position >= CancelledFrom)
        {
            return _dispatched.ContainsKey(position) ? ItemStatus.InFlight : ItemStatus.Cancelled;
        }

        var status = StatusAt(position) & StatusMask;
        return status != 0 ? (ItemStatus)status : _dispatched.ContainsKey(position) ? ItemStatus.InFlight : ItemStatus.Pending;
    }

    /// <summary>
    /// Takes the next position to dispatch when fewer than <paramref name="limit"/> may be running: positions to run
    /// again first, then the cursor, but never at or beyond the durable reservation or the items received.
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
            while (_cursor < Total && HasOutcome(_cursor))
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

        _dispatched[position] = new Dispatch(++_lastDispatchId, _time.GetUtcNow());
        InFlight++;
        return true;
    }

    /// <summary>The position the dispatch cursor points at (what is dispatched next, barring positions to run again).</summary>
    public int Cursor => _cursor;

    /// <summary>Records an item's one outcome (not yet durable); false when the position is unknown or already has one.</summary>
    public bool Record(ItemOutcome outcome)
    {
        var position = outcome.Position;
        if (position < 0 || position >= Total || HasOutcome(position) || outcome.Status is not (ItemStatus.Succeeded or ItemStatus.Failed or ItemStatus.Cancelled))
        {
            return false;
        }

        if (_dispatched.ContainsKey(position))
        {
            LeaveInFlight(position);
        }
        else
        {
            _requeued.Remove(position);
        }

        SetStatus(position, (byte)outcome.Status);
        Count(outcome.Status, 1);
        _highestOutcome = Math.Max(_highestOutcome, position);
        return true;
    }

    /// <summary>The outcomes of <paramref name="positions"/> are in storage now; the durable prefix moves on over them.</summary>
    public void MarkDurable(IEnumerable<int> positions)
    {
        foreach (var position in positions)
        {
            if (position >= DurablePrefix && position < Total && StatusAt(position) is var status and not 0)
            {
                SetStatus(position, (byte)(status | DurableFlag));
            }
        }

        AdvanceDurablePrefix();
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
    /// again — or, after a cancel, the caller records it Cancelled. <paramref name="dispatchId"/> (the dispatch the news is
    /// about) null applies to whatever dispatch. Stale news (the position has an outcome or was dispatched again) changes nothing.
    /// </summary>
    public RequeueResult Requeue(int position, long? dispatchId)
    {
        if (!_dispatched.ContainsKey(position) || (dispatchId is { } id && !IsCurrent(position, id)))
        {
            return RequeueResult.Stale;
        }

        if (CancelRequested)
        {
            return RequeueResult.CancelInstead;
        }

        LeaveInFlight(position);
        _requeued.Add(position);
        return RequeueResult.Requeued;
    }

    /// <summary>Positions dispatched (or last confirmed) at or before <paramref name="before"/>, and all unconfirmed ones, with their dispatch id.</summary>
    public IReadOnlyList<(int Position, long DispatchId)> InFlightSince(DateTimeOffset before) =>
        _dispatched.Where(d => d.Value.At <= before || _unconfirmed.Contains(d.Key)).Select(d => (d.Key, d.Value.Id)).ToList();

    /// <summary>The id of the position's current dispatch, or null when it is not in flight.</summary>
    public long? DispatchIdOf(int position) => _dispatched.TryGetValue(position, out var dispatch) ? dispatch.Id : null;

    /// <summary>Every position dispatched and without an outcome, with its dispatch id.</summary>
    public IReadOnlyList<(int Position, long DispatchId)> Dispatched() =>
        _dispatched.Select(d => (d.Key, d.Value.Id)).ToList();

    /// <summary>
    /// Stops dispatch and receiving. Positions never dispatched from <see cref="CancelledFrom"/> on are Cancelled without
    /// a stored outcome; returns the positions in flight (to cancel) and the undispatched ones below it (for the caller
    /// to record Cancelled).
    /// </summary>
    public CancelResult Cancel()
    {
        if (CancelRequested)
        {
            return new CancelResult([], []);
        }

        // Beyond the cursor nothing was dispatched; after a retry some positions there have outcomes, so the implicit
        // part starts after the last of them.
        Sealed = true;
        CancelledFrom = Math.Max(_cursor, _highestOutcome + 1);
        Cancelled += Total - CancelledFrom.Value;
        var undispatched = new List<int>(_requeued);
        for (var position = _cursor; position < CancelledFrom; position++)
        {
            if (!HasOutcome(position) && !_dispatched.ContainsKey(position))
            {
                undispatched.Add(position);
            }
        }

        _requeued.Clear();
        return new CancelResult([.. _dispatched.Keys], undispatched);
    }

    /// <summary>What the next write of the record stores (and, once it succeeded, what <see cref="Written"/> makes durable here).</summary>
    public LedgerCheckpoint Checkpoint() => Checkpoint(withReservation: true);

    /// <summary>The write of <paramref name="checkpoint"/> succeeded.</summary>
    public void Written(LedgerCheckpoint checkpoint)
    {
        DurableReservation = Math.Max(DurableReservation, checkpoint.Reservation);
        if (checkpoint.CancelledFrom is not null)
        {
            _cancelDurable = true;
            AdvanceDurablePrefix();
        }

        _written = checkpoint;
    }

    private LedgerCheckpoint Checkpoint(bool withReservation)
    {
        if (withReservation && _reservationExhausted)
        {
            _reservationStep = Math.Min(_reservationStep * 2, Math.Max(_baseReservation, BatchConstants.MaxDispatchReservation));
            _reservationExhausted = false;
        }

        if (withReservation)
        {
            // Positions with an outcome need no reservation (after a retry most have one): reserve from the next without.
            while (_cursor < Total && HasOutcome(_cursor))
            {
                _cursor++;
            }
        }

        var reservation = !withReservation || CancelRequested
            ? DurableReservation
            : Math.Max(DurableReservation, Math.Min(Total, _cursor + _reservationStep));
        return new LedgerCheckpoint(Total, Sealed, DurablePrefix, PrefixSucceeded, PrefixFailed, PrefixCancelled, reservation, CancelledFrom);
    }

    private bool HasOutcome(int position) =>
        position < DurablePrefix || position >= CancelledFrom || StatusAt(position) != 0;

    private bool IsCurrent(int position, long dispatchId) =>
        _dispatched.TryGetValue(position, out var dispatch) && dispatch.Id == dispatchId;

    private byte StatusAt(int position) =>
        _statuses.TryGetValue(position / _chunkSize, out var chunk) ? chunk[position % _chunkSize] : (byte)0;

    private void SetStatus(int position, byte status)
    {
        var index = position / _chunkSize;
        if (!_statuses.TryGetValue(index, out var chunk))
        {
            chunk = new byte[_chunkSize];
            _statuses[index] = chunk;
        }

        chunk[position % _chunkSize] = status;
    }

    private void Count(ItemStatus status, int count)
    {
        switch (status)
        {
            case ItemStatus.Succeeded:
                Succeeded += count;
                break;
            case ItemStatus.Failed:
                Failed += count;
                break;
            default:
                Cancelled += count;
                break;
        }
    }

    private void AdvanceDurablePrefix()
    {
        while (DurablePrefix < Total)
        {
            var position = DurablePrefix;
            if (position >= CancelledFrom)
            {
                if (!_cancelDurable)
                {
                    break;
                }

                PrefixCancelled += Total - position;
                DurablePrefix = Total;
                break;
            }

            var status = StatusAt(position);
            if ((status & DurableFlag) == 0)
            {
                break;
            }

            switch ((ItemStatus)(status & StatusMask))
            {
                case ItemStatus.Succeeded:
                    PrefixSucceeded++;
                    break;
                case ItemStatus.Failed:
                    PrefixFailed++;
                    break;
                default:
                    PrefixCancelled++;
                    break;
            }

            DurablePrefix++;
            if (DurablePrefix % _chunkSize == 0)
            {
                // The chunk is behind the prefix for good: its statuses are no longer needed.
                _statuses.Remove(position / _chunkSize);
            }
        }

        if (DurablePrefix == Total && Sealed)
        {
            _statuses.Clear();
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

/// <summary>What a cancel leaves to do: items in flight to cancel, undispatched positions to record Cancelled.</summary>
internal sealed record CancelResult(IReadOnlyList<int> InFlight, IReadOnlyList<int> Undispatched);

/// <summary>What became of news that an item is not running.</summary>
internal enum RequeueResult
{
    /// <summary>About an older dispatch, or the position has its outcome: nothing changed.</summary>
    Stale,

    /// <summary>It runs again.</summary>
    Requeued,

    /// <summary>The batch is cancelling: the caller records it Cancelled.</summary>
    CancelInstead,
}

/// <summary>
/// The counters and cursors of a batch's record: what one write stores from its ledger, and what a ledger is rebuilt
/// from (<see cref="BatchLedger.Resume"/>).
/// </summary>
internal sealed record LedgerCheckpoint(
    int Received,
    bool Sealed,
    int DurablePrefix,
    int PrefixSucceeded,
    int PrefixFailed,
    int PrefixCancelled,
    int Reservation,
    int? CancelledFrom);
