using Floodgate.Grains.Limiting;

namespace Floodgate.Tests.Limiting;

public sealed class GroupCommitTests
{
    [Fact]
    public async Task FlushAsync_WhileAWriteRuns_CallersShareTheNextWrite()
    {
        var gates = new List<TaskCompletionSource>();
        using var started = new SemaphoreSlim(0);
        var commit = new GroupCommit(() =>
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gates)
            {
                gates.Add(gate);
            }

            started.Release();
            return gate.Task;
        });

        var first = commit.FlushAsync();
        var second = commit.FlushAsync();
        var third = commit.FlushAsync();
        Assert.Single(gates);

        gates[0].SetResult();
        await first;
        Assert.False(second.IsCompleted);
        // The next write starts on the commit's own continuation, which may run just after the first caller resumes.
        Assert.True(await started.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await started.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, gates.Count);
        gates[1].SetResult();
        await Task.WhenAll(second, third);

        Assert.Equal(2, commit.Writes);
    }

    [Fact]
    public async Task FlushAsync_WriteFails_EveryCallerOfThatWriteSeesTheErrorAndTheNextWriteStillRuns()
    {
        var calls = 0;
        var commit = new GroupCommit(() => ++calls == 1 ? Task.FromException(new InvalidOperationException("disk")) : Task.CompletedTask);

        await Assert.ThrowsAsync<InvalidOperationException>(() => commit.FlushAsync());
        await commit.FlushAsync();

        Assert.Equal(2, calls);
    }
}
