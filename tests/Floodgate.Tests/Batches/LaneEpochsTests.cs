using Floodgate.Grains.Batches;
using Floodgate.Grains.Items;

namespace Floodgate.Tests.Batches;

public sealed class LaneEpochsTests
{
    [Fact]
    public void KeyOf_EpochZero_IsThePlainLaneKey_LaterEpochsAreNewKeys()
    {
        Assert.Equal(ItemLanes.KeyOf("b", 33), LaneEpochs.KeyOf("b", 33, 0));
        Assert.Equal("b/1.2", LaneEpochs.KeyOf("b", 33, 2));
    }

    [Fact]
    public void Refused_AtTheCurrentEpoch_MovesOnlyThatLane_AndMarksItUnwritten()
    {
        var epochs = new LaneEpochs();

        Assert.True(epochs.Refused(position: 1, epoch: 0));

        Assert.Equal(1, epochs.Current(1));
        Assert.Equal(1, epochs.Current(1 + ItemLanes.Count));
        Assert.Equal(0, epochs.Current(2));
        Assert.True(epochs.Unwritten);
        Assert.Equal([1, 0], epochs.Candidates(1));
        Assert.Equal([0], epochs.Candidates(2));
    }

    [Fact]
    public void Refused_AtAnEarlierEpoch_DoesNotMoveTheLaneAgain()
    {
        var epochs = new LaneEpochs();
        epochs.Refused(1, 0);

        Assert.False(epochs.Refused(1 + ItemLanes.Count, 0)); // a second start refused by the same draining activation

        Assert.Equal(1, epochs.Current(1));
    }

    [Fact]
    public void Snapshot_NullUntilALaneMoves_ThenRestoresIntoASuccessor()
    {
        var epochs = new LaneEpochs();
        Assert.Null(epochs.Snapshot().Epochs);
        epochs.Refused(3, 0);
        epochs.Refused(3, 1);

        var (stored, version) = epochs.Snapshot();
        epochs.Written(version);
        var successor = new LaneEpochs();
        successor.Restore(stored);

        Assert.False(epochs.Unwritten);
        Assert.Equal(2, successor.Current(3));
        Assert.Equal([2, 1, 0], successor.Candidates(3));
        Assert.False(successor.Unwritten);
    }

    [Fact]
    public void Unwritten_UntilTheWriteOfASnapshotSucceeds()
    {
        var epochs = new LaneEpochs();
        epochs.Refused(3, 0);

        epochs.Snapshot(); // its write failed: nothing said Written

        Assert.True(epochs.Unwritten);
    }

    [Fact]
    public void Written_OfASnapshotTakenBeforeALaterMove_LeavesThatMoveUnwritten()
    {
        var epochs = new LaneEpochs();
        epochs.Refused(3, 0);
        var (_, version) = epochs.Snapshot();
        epochs.Refused(4, 0); // while the write was in flight

        epochs.Written(version);

        Assert.True(epochs.Unwritten);
    }
}
