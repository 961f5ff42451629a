using Floodgate.Batches;
using Floodgate.Grains.Batches.Index;
using Floodgate.Validation;

namespace Floodgate.Tests.Batches;

public sealed class BatchIndexTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static BatchSummary Batch(string id, int minute, BatchState state = BatchState.Completed) =>
        new(id, state, 10, state == BatchState.Completed ? 10 : 0, 0, 0, "acct", Start.AddMinutes(minute), null, 0);

    private static BatchIndex CreateSut(int capacity = 100, params BatchSummary[] batches)
    {
        var index = new BatchIndex(capacity);
        foreach (var batch in batches)
        {
            index.Upsert(batch);
        }

        return index;
    }

    [Fact]
    public void List_PagesNewestFirstUntilTheLastPageHasNoCursor()
    {
        var index = CreateSut(100, Batch("a", 1), Batch("b", 2), Batch("c", 3), Batch("d", 4), Batch("e", 5));

        var first = index.List(new BatchListQuery(Limit: 2));
        var second = index.List(new BatchListQuery(Limit: 2, After: first.Next));
        var third = index.List(new BatchListQuery(Limit: 2, After: second.Next));

        Assert.Equal(["e", "d"], first.Batches.Select(b => b.BatchId));
        Assert.Equal(["c", "b"], second.Batches.Select(b => b.BatchId));
        Assert.Equal(["a"], third.Batches.Select(b => b.BatchId));
        Assert.Null(third.Next);
    }

    [Fact]
    public void List_BatchesAddedBetweenPages_NeitherRepeatNorSkipOlderOnes()
    {
        var index = CreateSut(100, Batch("a", 1), Batch("b", 2), Batch("c", 3));
        var first = index.List(new BatchListQuery(Limit: 2));

        index.Upsert(Batch("new", 9));
        index.Remove("c");
        var second = index.List(new BatchListQuery(Limit: 2, After: first.Next));

        Assert.Equal(["c", "b"], first.Batches.Select(b => b.BatchId));
        Assert.Equal(["a"], second.Batches.Select(b => b.BatchId));
    }

    [Fact]
    public void List_SameSubmissionTime_OrderedById()
    {
        var index = CreateSut(100, Batch("y", 1), Batch("x", 1), Batch("z", 1));

        var first = index.List(new BatchListQuery(Limit: 2));
        var second = index.List(new BatchListQuery(Limit: 2, After: first.Next));

        Assert.Equal(["x", "y", "z"], first.Batches.Concat(second.Batches).Select(b => b.BatchId));
    }

    [Fact]
    public void List_ByState_ReturnsOnlyThatState()
    {
        var index = CreateSut(100, Batch("a", 1), Batch("b", 2, BatchState.Running), Batch("c", 3), Batch("d", 4, BatchState.Running));

        var running = index.List(new BatchListQuery(BatchState.Running, Limit: 1));
        var rest = index.List(new BatchListQuery(BatchState.Running, Limit: 1, After: running.Next));

        Assert.Equal(["d", "b"], running.Batches.Concat(rest.Batches).Select(b => b.BatchId));
        Assert.Null(rest.Next);
    }

    [Fact]
    public void Upsert_ChangeOfState_ReplacesTheEntry()
    {
        var index = CreateSut(100, Batch("a", 1, BatchState.Running));

        Assert.True(index.Upsert(Batch("a", 1)));
        Assert.False(index.Upsert(Batch("a", 1)));

        Assert.Equal(BatchState.Completed, Assert.Single(index.List(new BatchListQuery()).Batches).State);
    }

    [Fact]
    public void Upsert_BeyondCapacity_DropsTheOldestFinishedBatchFirst()
    {
        var index = CreateSut(3, Batch("old-running", 1, BatchState.Running), Batch("old-done", 2), Batch("newer", 3));

        index.Upsert(Batch("newest", 4));

        Assert.Equal(3, index.Count);
        Assert.Equal(["newest", "newer", "old-running"], index.List(new BatchListQuery()).Batches.Select(b => b.BatchId));
    }

    [Theory]
    [InlineData(0, null, "Limit must be between 1 and")]
    [InlineData(501, null, "Limit must be between 1 and")]
    [InlineData(10, "garbage", "is not a cursor")]
    [InlineData(10, "12.bad/id", "is not a cursor")]
    public void List_BadQuery_IsRefused(int limit, string? after, string expected)
    {
        var error = Assert.Throws<FloodgateValidationException>(() => CreateSut().List(new BatchListQuery(Limit: limit, After: after)));

        Assert.Contains(expected, error.Message);
    }
}
