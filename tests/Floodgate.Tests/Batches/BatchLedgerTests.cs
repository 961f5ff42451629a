using Floodgate.Batches;
using Floodgate.Grains.Batches;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Batches;

public sealed class BatchLedgerTests
{
    private const int Reservation = 4;
    private const int ChunkSize = 10;
    private readonly FakeTimeProvider _time = new();

    private static ItemOutcome Success(int position) => ItemOutcome.Succeeded(position, $"{{\"p\":{position}}}", 1);

    /// <summary>A batch of <paramref name="count"/> items, all received, whose first reservation is durable (what a submit leaves).</summary>
    private BatchLedger CreateSut(int count, bool sealedBatch = true)
    {
        var ledger = BatchLedger.Create(ChunkSize, Reservation, _time);
        Receive(ledger, count, sealedBatch);
        ledger.Written(ledger.Checkpoint());
        return ledger;
    }

    private static void Receive(BatchLedger ledger, int count, bool last)
    {
        for (var left = count; left > 0; left -= ChunkSize)
        {
            ledger.Receive(Math.Min(left, ChunkSize), last && left <= ChunkSize);
        }
    }

    private static List<int> DispatchAll(BatchLedger ledger, int limit)
    {
        var positions = new List<int>();
        while (ledger.TryDispatch(limit, out var position))
        {
            positions.Add(position);
        }

        return positions;
    }

    /// <summary>Records outcomes and makes them durable, as a write of their chunks would.</summary>
    private static void Finish(BatchLedger ledger, params int[] positions)
    {
        foreach (var position in positions)
        {
            ledger.Record(Success(position));
        }

        ledger.MarkDurable(positions);
    }

    [Fact]
    public void TryDispatch_BeforeTheReservationIsWritten_DispatchesNothing()
    {
        var ledger = BatchLedger.Create(ChunkSize, Reservation, _time);
        Receive(ledger, 10, last: true);

        Assert.False(ledger.TryDispatch(10, out _));
        Assert.True(ledger.RecordIsBehind);
        Assert.Equal(Reservation, ledger.Checkpoint().Reservation);
    }

    [Fact]
    public void TryDispatch_UpToLocalLimit_DispatchesInOrderThenRefuses()
    {
        var ledger = CreateSut(10);

        Assert.Equal([0, 1, 2], DispatchAll(ledger, 3));
        Assert.Equal((7, 3), (ledger.Pending, ledger.InFlight));
    }

    [Fact]
    public void TryDispatch_AtDurableReservation_StopsUntilAWriteExtendsIt()
    {
        var ledger = CreateSut(10);

        Assert.Equal([0, 1, 2, 3], DispatchAll(ledger, 10));
        Assert.True(ledger.RecordIsBehind);

        var checkpoint = ledger.Checkpoint();
        Assert.Empty(DispatchAll(ledger, 10));
        ledger.Written(checkpoint);

        Assert.Equal([4, 5, 6, 7, 8, 9], DispatchAll(ledger, 10));
    }

    [Fact]
    public void TryDispatch_ItemsStillArriving_DispatchesOnlyWhatArrivedThenGoesOn()
    {
        var ledger = CreateSut(ChunkSize, sealedBatch: false);
        DispatchAll(ledger, 100);
        ledger.Written(ledger.Checkpoint());

        Assert.Equal(Enumerable.Range(4, 6), DispatchAll(ledger, 100));
        Assert.False(ledger.IsComplete);

        ledger.Receive(3, last: true);
        ledger.Written(ledger.Checkpoint());

        Assert.Equal([10, 11, 12], DispatchAll(ledger, 100));
        Assert.True(ledger.Sealed);
    }

    [Fact]
    public void Checkpoint_AfterDispatchOutranTheReservation_ReservesTwiceAsMany()
    {
        var ledger = CreateSut(100);
        DispatchAll(ledger, 100);

        var checkpoint = ledger.Checkpoint();

        Assert.Equal(4 + (2 * Reservation), checkpoint.Reservation);
    }

    [Fact]
    public void Checkpoint_WhileDispatchKeepsOutrunningTheWrites_ReservationDoublesUpToTheMaximum()
    {
        var ledger = CreateSut(100_000);
        var steps = new List<int>();
        for (var round = 0; round < 20; round++)
        {
            DispatchAll(ledger, int.MaxValue);
            var checkpoint = ledger.Checkpoint();
            steps.Add(checkpoint.Reservation - ledger.Cursor);
            ledger.Written(checkpoint);
        }

        // Doubling from the base, never past the maximum, which the batch reaches (then the batch's end bounds it).
        Assert.Equal(2 * Reservation, steps[0]);
        Assert.Equal(BatchConstants.MaxDispatchReservation, steps.Max());
        Assert.Equal(0, steps[^1]);
    }

    [Fact]
    public void MarkDurable_OutOfOrder_DurablePrefixCoversOnlyConsecutiveDurableOutcomes()
    {
        var ledger = CreateSut(4);
        DispatchAll(ledger, 4);

        Finish(ledger, 1);
        Assert.Equal(0, ledger.DurablePrefix);
        Finish(ledger, 0);

        Assert.Equal(2, ledger.DurablePrefix);
        Assert.Equal(2, ledger.PrefixSucceeded);
    }

    [Fact]
    public void Record_NotYetDurable_DurablePrefixDoesNotPassIt()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 3);

        ledger.Record(Success(0));

        Assert.Equal((1, 0), (ledger.Succeeded, ledger.DurablePrefix));
        ledger.MarkDurable([0]);
        Assert.Equal(1, ledger.DurablePrefix);
    }

    [Fact]
    public void Record_SecondOutcomeForAPosition_IsIgnored()
    {
        var ledger = CreateSut(2);
        DispatchAll(ledger, 2);

        Assert.True(ledger.Record(Success(0)));
        Assert.False(ledger.Record(ItemOutcome.Failed(0, "late", 1)));

        Assert.Equal(ItemStatus.Succeeded, ledger.StatusOf(0));
        Assert.Equal((1, 0), (ledger.Succeeded, ledger.Failed));
    }

    [Fact]
    public void Record_PositionNotReceived_IsIgnored()
    {
        var ledger = CreateSut(2);

        Assert.False(ledger.Record(Success(2)));
        Assert.False(ledger.Record(Success(-1)));
    }

    [Fact]
    public void MarkDurable_WholeBatchInOrder_KeepsStatusesOnlyForTheOpenWindow()
    {
        var ledger = BatchLedger.Create(ChunkSize, 64, _time);
        var mostOpen = 0;
        for (var chunk = 0; chunk < 100; chunk++)
        {
            ledger.Receive(ChunkSize, last: chunk == 99);
            ledger.Written(ledger.Checkpoint());
            foreach (var position in DispatchAll(ledger, 1000))
            {
                Finish(ledger, position);
                mostOpen = Math.Max(mostOpen, ledger.OpenStatusChunks);
            }
        }

        Assert.True(ledger.IsDurablyComplete);
        Assert.Equal(1000, ledger.PrefixSucceeded);
        Assert.InRange(mostOpen, 1, 2);
        Assert.Equal(0, ledger.OpenStatusChunks);
    }

    [Fact]
    public void Resume_PositionsThatMayHaveBeenDispatched_AreUnconfirmedAndBlockDispatch()
    {
        var first = CreateSut(10);
        DispatchAll(first, 2);
        Finish(first, 0);
        var durable = first.Checkpoint();
        first.Written(durable);

        var successor = BatchLedger.Resume(durable, ChunkSize, Reservation, _time);
        successor.CompleteRestore(afterRetry: false);

        // Below the reservation: 1 was in flight, 2..(reservation-1) may have been dispatched since; 0 is done.
        Assert.Equal(durable.Reservation - 1, successor.Unconfirmed);
        Assert.Equal((0, 1, 1), (successor.InFlight, successor.Succeeded, successor.DurablePrefix));
        Assert.False(successor.TryDispatch(durable.Reservation - 1, out _));
    }

    [Fact]
    public void RestoreChunk_OutcomesWrittenAfterTheRecord_CountAndAreNotDispatchedAgain()
    {
        var first = CreateSut(10);
        var durable = first.Checkpoint();
        first.Written(durable);
        DispatchAll(first, 3);
        Finish(first, 0, 2);

        // The record still says nothing is done; the chunk holds 0 and 2.
        var successor = BatchLedger.Resume(durable, ChunkSize, Reservation, _time);
        var chunk = new ItemOutcome?[ChunkSize];
        chunk[0] = Success(0);
        chunk[2] = Success(2);
        successor.RestoreChunk(0, chunk);
        successor.CompleteRestore(afterRetry: false);

        Assert.Equal((2, 1), (successor.Succeeded, successor.DurablePrefix));
        Assert.Equal(durable.Reservation - 2, successor.Unconfirmed);
        Assert.Null(successor.StatusOf(0));
        Assert.Equal(ItemStatus.Succeeded, successor.StatusOf(2));
    }

    [Fact]
    public void ChunksToRestore_FromTheDurablePrefixToTheReservation()
    {
        var ledger = BatchLedger.Resume(new LedgerCheckpoint(100, true, 25, 25, 0, 0, 47, null), ChunkSize, Reservation, _time);

        Assert.Equal((2, 5), ledger.ChunksToRestore(all: false));
        Assert.Equal((0, 10), ledger.ChunksToRestore(all: true));
    }

    [Fact]
    public void Confirm_RunningUnconfirmedPosition_CountsInFlight()
    {
        var ledger = BatchLedger.Resume(CreateSut(3).Checkpoint(), ChunkSize, Reservation, _time);
        ledger.CompleteRestore(afterRetry: false);
        var (position, dispatchId) = ledger.Dispatched().Single(d => d.Position == 1);

        ledger.Confirm(position, dispatchId);

        Assert.Equal((1, 2), (ledger.InFlight, ledger.Unconfirmed));
    }

    [Fact]
    public void Requeue_IdlePosition_IsDispatchedAgainBeforeNewOnes()
    {
        var ledger = CreateSut(10);
        DispatchAll(ledger, 2);
        var (_, dispatchId) = ledger.Dispatched().Single(d => d.Position == 0);

        Assert.Equal(RequeueResult.Requeued, ledger.Requeue(0, dispatchId));
        Assert.Equal(ItemStatus.Pending, ledger.StatusOf(0));

        Assert.Equal([0], DispatchAll(ledger, 2));
    }

    [Fact]
    public void Requeue_PositionDispatchedAgainSinceTheProbe_IsStale()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 1);
        var (_, probedDispatch) = ledger.Dispatched().Single();
        ledger.Requeue(0, null);
        DispatchAll(ledger, 1);

        Assert.Equal(RequeueResult.Stale, ledger.Requeue(0, probedDispatch));
        Assert.Equal(1, ledger.InFlight);
    }

    [Fact]
    public void Requeue_AfterCancel_TellsTheCallerToRecordItCancelled()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 1);
        ledger.Cancel();

        Assert.Equal(RequeueResult.CancelInstead, ledger.Requeue(0, null));
        ledger.Record(ItemOutcome.Cancelled(0, 0));

        Assert.Equal((3, 0), (ledger.Cancelled, ledger.InFlight));
        Assert.True(ledger.IsComplete);
    }

    [Fact]
    public void Cancel_WhileRunning_UndispatchedPositionsAreCancelledWithoutAStoredOutcome()
    {
        var ledger = CreateSut(50);
        DispatchAll(ledger, 2);

        var cancel = ledger.Cancel();

        Assert.Equal([0, 1], cancel.InFlight.Order());
        Assert.Empty(cancel.Undispatched);
        Assert.Equal(2, ledger.CancelledFrom);
        Assert.Equal((48, 0, 2), (ledger.Cancelled, ledger.Pending, ledger.InFlight));
        Assert.False(ledger.TryDispatch(50, out _));
        Assert.Equal(2, ledger.Checkpoint().CancelledFrom);
    }

    [Fact]
    public void Cancel_DurablePrefixPassesTheCancelledPartOnlyOnceTheCancelIsWritten()
    {
        var ledger = CreateSut(50);
        DispatchAll(ledger, 1);
        Finish(ledger, 0);
        ledger.Cancel();
        Assert.Equal(1, ledger.DurablePrefix);

        ledger.Written(ledger.Checkpoint());

        Assert.Equal(50, ledger.DurablePrefix);
        Assert.Equal((1, 49), (ledger.PrefixSucceeded, ledger.PrefixCancelled));
        Assert.True(ledger.IsDurablyComplete);
    }

    [Fact]
    public void Cancel_PositionWaitingToRunAgain_IsForTheCallerToRecordCancelled()
    {
        var ledger = CreateSut(10);
        DispatchAll(ledger, 2);
        ledger.Requeue(0, null);

        var cancel = ledger.Cancel();

        Assert.Equal([0], cancel.Undispatched);
        Assert.Equal([1], cancel.InFlight);
    }

    [Fact]
    public void Cancel_WhileItemsStillArrive_SealsTheBatchAtWhatArrived()
    {
        var ledger = CreateSut(ChunkSize, sealedBatch: false);

        ledger.Cancel();

        Assert.True(ledger.Sealed);
        Assert.Equal(ChunkSize, ledger.Total);
        Assert.Throws<InvalidOperationException>(() => ledger.Receive(5, last: true));
    }

    [Fact]
    public void CompleteRestore_AfterRetry_DispatchesOnlyTheErasedPositionsInOrder()
    {
        // A finished batch of 30 whose positions 5 and 22 failed; the retry erased them and recounts from storage.
        var ledger = BatchLedger.Resume(new LedgerCheckpoint(30, true, 0, 0, 0, 0, 30, null), ChunkSize, Reservation, _time);
        for (var chunk = 0; chunk < 3; chunk++)
        {
            ledger.RestoreChunk(chunk, Enumerable.Range(chunk * ChunkSize, ChunkSize).Select(p => p is 5 or 22 ? null : Success(p)).ToArray());
        }

        ledger.CompleteRestore(afterRetry: true);
        Assert.Equal((28, 0, 2, 5), (ledger.Succeeded, ledger.Failed, ledger.Pending, ledger.DurablePrefix));
        Assert.Equal(0, ledger.Unconfirmed);

        // Each write reserves from the next position without an outcome, however far the done ones reach.
        ledger.Written(ledger.Checkpoint());
        Assert.Equal([5], DispatchAll(ledger, 10));
        ledger.Written(ledger.Checkpoint());
        Assert.Equal([22], DispatchAll(ledger, 10));
    }

    [Fact]
    public void Cancel_DuringARetry_CancelsOnlyPositionsWithoutAnOutcome()
    {
        var ledger = BatchLedger.Resume(new LedgerCheckpoint(30, true, 0, 0, 0, 0, 30, null), ChunkSize, Reservation, _time);
        for (var chunk = 0; chunk < 3; chunk++)
        {
            ledger.RestoreChunk(chunk, Enumerable.Range(chunk * ChunkSize, ChunkSize).Select(p => p is 5 or 22 ? null : Success(p)).ToArray());
        }

        ledger.CompleteRestore(afterRetry: true);

        var cancel = ledger.Cancel();

        Assert.Equal([5, 22], cancel.Undispatched);
        Assert.Equal(30, ledger.CancelledFrom);
        Assert.Equal((28, 0), (ledger.Succeeded, ledger.Cancelled));
    }

    [Fact]
    public void InFlightSince_ConfirmedRunning_NotDueAgainUntilAnotherInterval()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 1);
        _time.Advance(TimeSpan.FromSeconds(30));
        var (position, dispatchId) = ledger.InFlightSince(_time.GetUtcNow()).Single();

        ledger.Confirm(position, dispatchId);

        Assert.Empty(ledger.InFlightSince(_time.GetUtcNow() - TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal([(0, dispatchId)], ledger.InFlightSince(_time.GetUtcNow() - TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void RecordIsBehind_DurablePrefixMovedAChunk_AsksForAWriteSoASuccessorReadsLess()
    {
        var ledger = BatchLedger.Create(ChunkSize, 64, _time);
        Receive(ledger, 30, last: true);
        ledger.Written(ledger.Checkpoint());
        var dispatched = DispatchAll(ledger, 100);
        Assert.Equal(30, dispatched.Count);
        Assert.False(ledger.RecordIsBehind);

        Finish(ledger, [.. dispatched.Take(ChunkSize - 1)]);
        Assert.False(ledger.RecordIsBehind);
        Finish(ledger, dispatched[ChunkSize - 1]);

        Assert.True(ledger.RecordIsBehind);
    }
}
