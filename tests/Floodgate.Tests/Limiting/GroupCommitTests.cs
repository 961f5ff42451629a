using Floodgate.Grains.Limiting;

namespace Floodgate.Tests.Limiting;

/// <summary>
/// <see cref="GroupCommit"/> on a scheduler that runs one task at a time, as a grain activation's does (the commit is not
/// thread-safe and relies on that).
/// </summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TaskScheduler _activation = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;

    [Fact]
    public Task FlushAsync_WhileAWriteRuns_CallersShareTheNextWrite() => OnActivation(async () =>
    {
        var writes = new Writes();
        var commit = new GroupCommit(writes.Next);

        var first = commit.FlushAsync();
        await writes.StartedAsync(1);
        var second = commit.FlushAsync();
        var third = commit.FlushAsync();
        writes.Finish(0);
        await first.WaitAsync(Patience);
        await writes.StartedAsync(2);
        writes.Finish(1);
        await Task.WhenAll(second, third).WaitAsync(Patience);

        Assert.Equal(2, commit.Writes);
    });

    [Fact]
    public Task FlushAsync_CallersInOneMomentBeforeTheWriteStarts_ShareOneWrite() => OnActivation(async () =>
    {
        var writes = new Writes();
        var commit = new GroupCommit(writes.Next);

        // Three grants of one turn (or of requests queued behind it) before the activation yields: one write.
        var flushes = new[] { commit.FlushAsync(), commit.FlushAsync(), commit.FlushAsync() };
        await writes.StartedAsync(1);
        writes.Finish(0);
        await Task.WhenAll(flushes).WaitAsync(Patience);

        Assert.Equal(1, commit.Writes);
    });

    [Fact]
    public Task FlushAsync_WriteFails_EveryCallerOfThatWriteSeesTheErrorAndTheNextWriteStillRuns() => OnActivation(async () =>
    {
        var calls = 0;
        var commit = new GroupCommit(() => ++calls == 1 ? Task.FromException(new InvalidOperationException("disk")) : Task.CompletedTask);

        var failed = new[] { commit.FlushAsync(), commit.FlushAsync() };
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed[0]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed[1]);
        await commit.FlushAsync();

        Assert.Equal(2, calls);
    });

    private Task OnActivation(Func<Task> test) =>
        Task.Factory.StartNew(test, CancellationToken.None, TaskCreationOptions.None, _activation).Unwrap();

    /// <summary>Writes that each wait for the test to finish them.</summary>
    private sealed class Writes
    {
        private readonly List<TaskCompletionSource> _gates = [];

        public Task Next()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _gates.Add(gate);
            return gate.Task;
        }

        public void Finish(int write) => _gates[write].SetResult();

        /// <summary>Yields the activation until <paramref name="count"/> writes have started.</summary>
        public async Task StartedAsync(int count)
        {
            for (var turns = 0; _gates.Count < count; turns++)
            {
                Assert.True(turns < 10_000, $"{count} write(s) did not start.");
                await Task.Yield();
            }
        }
    }
}
