using System.Collections.Concurrent;
using Floodgate.Grains.References;

namespace Floodgate.Tests.References;

public sealed class GroupedCallsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A send function whose calls wait until released, recording each group.</summary>
    private sealed class Gate
    {
        private readonly ConcurrentQueue<TaskCompletionSource> _calls = new();

        public ConcurrentQueue<(string Key, IReadOnlyList<int> Values)> Groups { get; } = new();

        public Exception? FailWith { get; set; }

        public int Waiting => _calls.Count;

        public async Task SendAsync(string key, IReadOnlyList<int> values)
        {
            var call = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Enqueue(call);
            await call.Task;
            Groups.Enqueue((key, values));
            if (FailWith is { } error)
            {
                throw error;
            }
        }

        public void ReleaseOne()
        {
            Assert.True(_calls.TryDequeue(out var call));
            call.SetResult();
        }
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Delay(5, bound.Token);
        }
    }

    [Fact]
    public async Task SendAsync_WhileACallIsOnItsWay_LaterValuesGoTogetherInTheNextCall()
    {
        var gate = new Gate();
        var calls = new GroupedCalls<string, int>(gate.SendAsync, maxGroup: 100);

        var first = calls.SendAsync("a", 1);
        await UntilAsync(() => gate.Waiting == 1);
        var later = Enumerable.Range(2, 3).Select(v => calls.SendAsync("a", v)).ToList();
        gate.ReleaseOne();
        await first.WaitAsync(Bound);
        await UntilAsync(() => gate.Waiting == 1);
        gate.ReleaseOne();
        await Task.WhenAll(later).WaitAsync(Bound);

        Assert.Equal([[1], [2, 3, 4]], gate.Groups.Select(g => g.Values.ToArray()));
    }

    [Fact]
    public async Task SendAsync_MoreWaitingThanTheGroupSize_SplitsThemInOrder()
    {
        var gate = new Gate();
        var calls = new GroupedCalls<string, int>(gate.SendAsync, maxGroup: 2);

        var first = calls.SendAsync("a", 0);
        await UntilAsync(() => gate.Waiting == 1);
        var later = Enumerable.Range(1, 5).Select(v => calls.SendAsync("a", v)).ToList();
        for (var call = 0; call < 4; call++)
        {
            await UntilAsync(() => gate.Waiting == 1);
            gate.ReleaseOne();
        }

        await Task.WhenAll(later.Append(first)).WaitAsync(Bound);
        Assert.Equal([[0], [1, 2], [3, 4], [5]], gate.Groups.Select(g => g.Values.ToArray()));
    }

    [Fact]
    public async Task SendAsync_DifferentKeys_DoNotWaitForEachOther()
    {
        var gate = new Gate();
        var calls = new GroupedCalls<string, int>(gate.SendAsync, maxGroup: 100);

        var a = calls.SendAsync("a", 1);
        var b = calls.SendAsync("b", 2);
        await UntilAsync(() => gate.Waiting == 2);
        gate.ReleaseOne();
        gate.ReleaseOne();
        await Task.WhenAll(a, b).WaitAsync(Bound);

        Assert.Equal(["a", "b"], gate.Groups.Select(g => g.Key).Order());
    }

    [Fact]
    public async Task SendAsync_ACallFails_EverySenderOfThatGroupSeesTheErrorAndTheNextGroupStillGoes()
    {
        var gate = new Gate { FailWith = new InvalidOperationException("lost") };
        var calls = new GroupedCalls<string, int>(gate.SendAsync, maxGroup: 100);

        var first = calls.SendAsync("a", 1);
        await UntilAsync(() => gate.Waiting == 1);
        gate.ReleaseOne();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => first.WaitAsync(Bound));
        gate.FailWith = null;
        var again = calls.SendAsync("a", 1);
        await UntilAsync(() => gate.Waiting == 1);
        gate.ReleaseOne();
        await again.WaitAsync(Bound);

        Assert.Equal("lost", error.Message);
        Assert.Equal(2, gate.Groups.Count);
    }
}
