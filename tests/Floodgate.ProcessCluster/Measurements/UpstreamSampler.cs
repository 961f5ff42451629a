using Floodgate.ProcessCluster.Processes;
using Floodgate.ProcessCluster.Simulator;

namespace Floodgate.ProcessCluster.Measurements;

/// <summary>
/// Samples the simulator's counters every 50 ms, so the time the upstream saw no new request after a fault can be read
/// off (<see cref="LongestIdle"/>): the stall as the model API experiences it.
/// </summary>
public sealed class UpstreamSampler : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly SimulatorProcess _simulator;
    private readonly List<Sample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public UpstreamSampler(SimulatorProcess simulator)
    {
        _simulator = simulator;
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    public sealed record Sample(TimeSpan At, long TotalRequests, int CurrentConcurrent, int MaxConcurrent);

    /// <summary>The most requests the sampler saw in flight at once (the simulator's own maximum is exact; this is a cross-check).</summary>
    public int MaxCurrentSeen
    {
        get
        {
            lock (_samples)
            {
                return _samples.Count == 0 ? 0 : _samples.Max(s => s.CurrentConcurrent);
            }
        }
    }

    /// <summary>The longest time within [<paramref name="from"/>, <paramref name="to"/>] in which no new upstream request arrived.</summary>
    public TimeSpan LongestIdle(TimeSpan from, TimeSpan to)
    {
        List<Sample> samples;
        lock (_samples)
        {
            samples = [.. _samples];
        }

        // A request arrived between two samples when the total grew; date it at the later sample (50 ms resolution).
        var arrivals = samples.Zip(samples.Skip(1)).Where(p => p.Second.TotalRequests > p.First.TotalRequests).Select(p => p.Second.At);
        return Gaps.Longest(arrivals, from, to);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var stats = await _simulator.GetStatsAsync(cancellationToken);
                lock (_samples)
                {
                    _samples.Add(new Sample(Timeline.Now, stats.TotalRequests, stats.CurrentConcurrent, stats.MaxConcurrent));
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A missed sample only coarsens the measurement.
            }

            await Task.Delay(Interval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
