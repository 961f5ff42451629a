using Floodgate.Grains.Items;
using Floodgate.Limiting;

namespace Floodgate.Tests.Items;

public sealed class ItemLaneTests
{
    private static ItemWork Work(int position, string batchId = "b") =>
        new(batchId, position, "\"x\"", "echo", new Dictionary<string, string>(), ["l"], "l", AcquirePriority.Normal, null);

    [Fact]
    public void Lanes_SpreadPositionsRoundRobin_AndAPositionAlwaysFindsTheSameLane()
    {
        Assert.Equal("b/0", ItemLanes.KeyOf("b", 0));
        Assert.Equal("b/1", ItemLanes.KeyOf("b", 1));
        Assert.Equal("b/0", ItemLanes.KeyOf("b", ItemLanes.Count));
        Assert.Equal(ItemLanes.KeyOf("b", 12_345), ItemLanes.KeyOf("b", 12_345));
        Assert.Equal(ItemLanes.Count, Enumerable.Range(0, 10 * ItemLanes.Count).Select(p => ItemLanes.KeyOf("b", p)).Distinct().Count());
    }

    [Fact]
    public void TryStart_ARepeatedStartWhileTheRunGoesOn_IsNotASecondRun()
    {
        var lane = new ItemLane();
        var first = lane.TryStart(Work(3));

        Assert.NotNull(first);
        Assert.Null(lane.TryStart(Work(3)));
        Assert.NotNull(lane.TryStart(Work(35)));
        Assert.Equal(2, lane.Count);
        Assert.True(lane.IsRunning(3));
    }

    [Fact]
    public void TryStart_AfterTheRunFinished_RunsThePositionAgain()
    {
        var lane = new ItemLane();
        lane.Finish(lane.TryStart(Work(3))!);

        Assert.False(lane.IsRunning(3));
        Assert.NotNull(lane.TryStart(Work(3)));
    }

    [Fact]
    public void Cancel_ARunningPosition_CancelsOnlyItsRun()
    {
        var lane = new ItemLane();
        var three = lane.TryStart(Work(3))!;
        var other = lane.TryStart(Work(35))!;

        Assert.True(lane.Cancel(3));
        Assert.True(three.CancellationToken.IsCancellationRequested);
        Assert.False(other.CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public void Cancel_BeforeTheStartArrives_RefusesThatStartButNotOthers()
    {
        var lane = new ItemLane();

        Assert.False(lane.Cancel(3));
        Assert.Null(lane.TryStart(Work(3)));
        Assert.False(lane.IsRunning(3));
        Assert.NotNull(lane.TryStart(Work(35)));
    }

    [Fact]
    public void Cancel_AfterTheRunFinished_IsHarmless()
    {
        var lane = new ItemLane();
        var run = lane.TryStart(Work(3))!;
        lane.Finish(run);

        Assert.False(lane.Cancel(3));
        run.Cancel();
    }

    [Fact]
    public void Finish_AnOlderRunOfAPosition_LeavesTheCurrentRunInPlace()
    {
        var lane = new ItemLane();
        var old = lane.TryStart(Work(3))!;
        lane.Finish(old);
        lane.TryStart(Work(3));

        lane.Finish(old);

        Assert.True(lane.IsRunning(3));
    }

    [Fact]
    public void IdleSinceLastLook_IsTrueOnlyAfterAWholeLookPeriodWithoutRunsOrStarts()
    {
        var lane = new ItemLane();
        Assert.True(lane.IdleSinceLastLook());

        var run = lane.TryStart(Work(3))!;
        Assert.False(lane.IdleSinceLastLook()); // running
        lane.Finish(run);
        Assert.False(lane.IdleSinceLastLook()); // a run ended since the last look
        Assert.True(lane.IdleSinceLastLook());

        Assert.False(lane.Cancel(7)); // a refused start still counts as activity
        Assert.Null(lane.TryStart(Work(7)));
        Assert.False(lane.IdleSinceLastLook());
    }
}
