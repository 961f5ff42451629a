using Floodgate.Batches;
using Floodgate.Grains.Batches;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Batches;

public sealed class BatchLedgerTests
{
    private const int Reservation = 4;
    private readonly FakeTimeProvider _time = new();

    private static BatchRecord NewRecord(int count) => new() { Outcomes = new List<ItemOutcome?>(new ItemOutcome?[count]) };

    private static ItemOutcome Success(int position) => ItemOutcome.Succeeded(position, $"{{\"p\":{position}}}", 1);

    /// <summary>A fresh ledger whose first reservation is durable (what a successful submit leaves).</summary>
    private BatchLedger CreateSut(int count)
    {
        var ledger = BatchLedger.Restore(NewRecord(count), Reservation, _time);
        ledger.Written(ledger.Snapshot());
        return ledger;
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

    /// <summary>What a successor reads after <paramref name="ledger"/>'s last successful write of <paramref name="snapshot"/>.</summary>
    private static BatchRecord Stored(LedgerSnapshot snapshot) => new()
    {
        Outcomes = snapshot.Outcomes,
        InFlight = snapshot.InFlight,
        DispatchReservation = snapshot.Reservation,
        CancelRequested = snapshot.CancelRequested,
    };

    [Fact]
    public void TryDispatch_BeforeFirstWrite_DispatchesNothing()
    {
        var ledger = BatchLedger.Restore(NewRecord(10), Reservation, _time);

        Assert.False(ledger.TryDispatch(10, out _));
        Assert.True(ledger.HasUnwrittenChanges);
        Assert.Equal(Reservation, ledger.Snapshot().Reservation);
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
        Assert.True(ledger.HasUnwrittenChanges);

        var snapshot = ledger.Snapshot();
        Assert.Empty(DispatchAll(ledger, 10));
        ledger.Written(snapshot);

        Assert.Equal([4, 5, 6, 7, 8, 9], DispatchAll(ledger, 10));
    }

    [Fact]
    public void Snapshot_AfterDispatchOutranTheReservation_ReservesTwiceAsMany()
    {
        var ledger = CreateSut(100);
        DispatchAll(ledger, 100);

        var snapshot = ledger.Snapshot();

        Assert.Equal(4 + (2 * Reservation), snapshot.Reservation);
    }

    [Fact]
    public void Record_OutOfOrder_CompletedPrefixCoversOnlyConsecutiveOutcomes()
    {
        var ledger = CreateSut(4);
        DispatchAll(ledger, 4);

        ledger.Record(Success(1));
        Assert.Equal(0, ledger.CompletedPrefix);
        ledger.Record(Success(0));

        Assert.Equal(2, ledger.CompletedPrefix);
    }

    [Fact]
    public void Record_SecondOutcomeForAPosition_IsIgnored()
    {
        var ledger = CreateSut(2);
        DispatchAll(ledger, 2);

        Assert.True(ledger.Record(Success(0)));
        Assert.False(ledger.Record(ItemOutcome.Failed(0, "late", 1)));

        Assert.Equal(ItemStatus.Succeeded, ledger.OutcomeOf(0)!.Status);
        Assert.Equal((1, 0), (ledger.Succeeded, ledger.Failed));
    }

    [Fact]
    public void ReadDurable_OutcomeRecordedButNotWritten_IsNotServed()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 3);
        ledger.Record(Success(0));

        Assert.Empty(ledger.ReadDurable(0, 10));

        ledger.Written(ledger.Snapshot());
        Assert.Equal([0], ledger.ReadDurable(0, 10).Select(o => o.Position));
    }

    [Fact]
    public void Written_OutcomeArrivedDuringTheWrite_StaysUnwrittenForTheNextWrite()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 3);
        ledger.Record(Success(0));
        var snapshot = ledger.Snapshot();
        ledger.Record(Success(1));

        ledger.Written(snapshot);

        Assert.Equal(1, ledger.DurablePrefix);
        Assert.True(ledger.HasUnwrittenChanges);
    }

    [Fact]
    public void Restore_PositionsThatMayHaveBeenDispatched_AreUnconfirmedAndBlockDispatch()
    {
        var first = CreateSut(10);
        DispatchAll(first, 2);
        first.Record(Success(0));
        var durable = first.Snapshot();
        first.Written(durable);

        var successor = BatchLedger.Restore(Stored(durable), Reservation, _time);

        // Below the reservation: 1 was in flight, 2..5 may have been dispatched since; 0 is done.
        Assert.Equal(durable.Reservation - 1, successor.Unconfirmed);
        Assert.Equal((0, 1, 1), (successor.InFlight, successor.Succeeded, successor.DurablePrefix));
        Assert.False(successor.TryDispatch(durable.Reservation - 1, out _));
    }

    [Fact]
    public void Restore_OlderRecordWithoutReservation_CountsItsInFlightPositions()
    {
        var record = NewRecord(5);
        record.InFlight = [3];

        var ledger = BatchLedger.Restore(record, Reservation, _time);

        Assert.Equal(1, ledger.Unconfirmed);
        Assert.Equal(ItemStatus.InFlight, ledger.StatusOf(3));
    }

    [Fact]
    public void Confirm_RunningUnconfirmedPosition_CountsInFlight()
    {
        var ledger = BatchLedger.Restore(Stored(CreateSut(3).Snapshot()), Reservation, _time);
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

        Assert.True(ledger.Requeue(0, dispatchId));
        Assert.Equal(ItemStatus.Pending, ledger.StatusOf(0));

        Assert.Equal([0], DispatchAll(ledger, 2));
    }

    [Fact]
    public void Requeue_PositionDispatchedAgainSinceTheProbe_IsIgnored()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 1);
        var (_, probedDispatch) = ledger.Dispatched().Single();
        ledger.Requeue(0, null);
        DispatchAll(ledger, 1);

        Assert.False(ledger.Requeue(0, probedDispatch));
        Assert.Equal(1, ledger.InFlight);
    }

    [Fact]
    public void Requeue_AfterCancel_RecordsCancelled()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 1);
        ledger.Cancel();

        Assert.True(ledger.Requeue(0, null));

        Assert.Equal((3, 0), (ledger.Cancelled, ledger.InFlight));
        Assert.True(ledger.IsComplete);
    }

    [Fact]
    public void Cancel_WhileRunning_CancelsPendingAndReturnsInFlight()
    {
        var ledger = CreateSut(5);
        DispatchAll(ledger, 2);

        var inFlight = ledger.Cancel();

        Assert.Equal([0, 1], inFlight.Order());
        Assert.Equal((3, 0, 2), (ledger.Cancelled, ledger.Pending, ledger.InFlight));
        Assert.False(ledger.TryDispatch(5, out _));
        Assert.True(ledger.Snapshot().CancelRequested);
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
    public void InFlightSince_Cutoff_ReturnsOnlyPositionsDispatchedBeforeIt()
    {
        var ledger = CreateSut(3);
        DispatchAll(ledger, 1);
        _time.Advance(TimeSpan.FromSeconds(30));
        DispatchAll(ledger, 2);

        var stalled = ledger.InFlightSince(_time.GetUtcNow() - TimeSpan.FromSeconds(10));

        Assert.Equal([0], stalled.Select(s => s.Position));
    }
}
