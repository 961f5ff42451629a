using Floodgate.Grains.WarmUp;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.WarmUp;

public sealed class CompilationQuietTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private readonly FakeTimeProvider _time = new();
    private long _compiled;

    [Fact]
    public async Task WaitAsync_NothingCompiles_IsQuietAfterTheQuietPeriodWithNothingCounted()
    {
        var started = _time.GetUtcNow();
        var wait = CreateSut().WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        await AdvanceUntilDoneAsync(wait, onStep: null);

        Assert.Equal((0L, true), await wait);
        Assert.InRange(_time.GetUtcNow() - started, CompilationQuiet.QuietFor, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task WaitAsync_CompilingForAWhile_IsQuietOnlyOnceItStoppedAndCountsWhatItCompiled()
    {
        var wait = CreateSut().WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        var steps = 0;

        // 30 methods every other step, for 20 steps (one second), then nothing.
        await AdvanceUntilDoneAsync(wait, onStep: () =>
        {
            if (++steps <= 20 && steps % 2 == 0)
            {
                Interlocked.Add(ref _compiled, 30);
            }
        });

        Assert.Equal((300L, true), await wait);
        Assert.True(steps >= 20 + (CompilationQuiet.QuietFor / Step), $"quiet after {steps} steps, before compiling stopped for the quiet period");
    }

    [Fact]
    public async Task WaitAsync_NeverQuiet_GivesUpAtTheLongestWait()
    {
        var started = _time.GetUtcNow();
        var wait = CreateSut().WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None);

        await AdvanceUntilDoneAsync(wait, onStep: () => Interlocked.Increment(ref _compiled));

        var (compiled, quiet) = await wait;
        Assert.False(quiet);
        Assert.True(compiled > 0);
        Assert.InRange(_time.GetUtcNow() - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task WaitAsync_Cancelled_Throws()
    {
        using var cancel = new CancellationTokenSource();
        var wait = CreateSut().WaitAsync(TimeSpan.FromSeconds(5), cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    private CompilationQuiet CreateSut() => new(() => Interlocked.Read(ref _compiled), _time);

    /// <summary>Moves fake time on one poll at a time until <paramref name="wait"/> completes (at most a fake minute).</summary>
    private async Task AdvanceUntilDoneAsync(Task wait, Action? onStep)
    {
        for (var elapsed = TimeSpan.Zero; !wait.IsCompleted && elapsed < TimeSpan.FromMinutes(1); elapsed += Step)
        {
            onStep?.Invoke();
            _time.Advance(Step);

            // Let the waiting loop take its poll before time moves again.
            await Task.WhenAny(wait, Task.Delay(5));
        }
    }
}
