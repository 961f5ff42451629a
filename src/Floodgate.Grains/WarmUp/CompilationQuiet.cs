namespace Floodgate.Grains.WarmUp;

/// <summary>
/// Waits until the JIT stops compiling. After a round of real work, the methods that became hot are compiled again,
/// optimized, on the runtime's background thread (tiered compilation; with tiered PGO twice: instrumented, then
/// optimized with the profile); only once that is done does the next round run on warm code. Reads a count of compiled
/// methods (<see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/> in a silo), so tests can drive it with fake time.
/// </summary>
internal sealed class CompilationQuiet(Func<long> compiledMethods, TimeProvider time)
{
    /// <summary>The JIT counts as quiet once it compiled nothing for this long (the runtime's tiering delay is 100 ms).</summary>
    public static readonly TimeSpan QuietFor = TimeSpan.FromMilliseconds(300);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    /// <summary>Methods compiled so far in this process.</summary>
    public long CompiledMethods => compiledMethods();

    /// <summary>
    /// Completes once no method was compiled for <see cref="QuietFor"/>, or after <paramref name="maxWait"/>; returns how
    /// many methods were compiled meanwhile and whether it got quiet.
    /// </summary>
    public async Task<(long Compiled, bool Quiet)> WaitAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var first = compiledMethods();
        var last = first;
        var started = time.GetTimestamp();
        var lastChange = started;
        while (true)
        {
            await Task.Delay(Poll, time, cancellationToken);
            var now = compiledMethods();
            if (now != last)
            {
                last = now;
                lastChange = time.GetTimestamp();
            }
            else if (time.GetElapsedTime(lastChange) >= QuietFor)
            {
                return (last - first, true);
            }

            if (time.GetElapsedTime(started) >= maxWait)
            {
                return (last - first, false);
            }
        }
    }
}
