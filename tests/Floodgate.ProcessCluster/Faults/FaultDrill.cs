using Floodgate.ProcessCluster.Cluster;
using Floodgate.ProcessCluster.Measurements;
using Floodgate.ProcessCluster.Processes;
using Floodgate.ProcessCluster.Silos;

namespace Floodgate.ProcessCluster.Faults;

/// <summary>
/// Injects one fault into a silo and measures what follows: the grant stall seen by the <see cref="GrantProbe"/>, the
/// idle time seen by the upstream (<see cref="UpstreamSampler"/>) and how long the silo took to exit. Used by the fault
/// tests and the failover benchmark, so both measure the same way.
/// </summary>
public sealed class FaultDrill(FloodgateProcessCluster cluster, GrantProbe probe, UpstreamSampler sampler, Action<string> log, string? limiter = null)
{
    /// <summary>A stall longer than this prints what the limiter reported during it (holders, waiters, epoch).</summary>
    private static readonly TimeSpan ExplainStallsAbove = TimeSpan.FromSeconds(2);

    /// <summary>How long a SIGTERMed silo may take to exit before it is SIGKILLed (and the stop counts as unclean).</summary>
    public static readonly TimeSpan GracefulExitTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan UpstreamWindow = TimeSpan.FromSeconds(5);

    /// <summary>SIGKILL to <paramref name="target"/>, then measure until grants resume or <paramref name="bound"/> passes.</summary>
    public Task<FaultReport> KillAsync(SiloProcess target, string hosts, TimeSpan bound, CancellationToken cancellationToken) =>
        MeasureAsync("kill -9", target, hosts, cluster.Kill9(target), null, bound, cancellationToken);

    /// <summary>SIGTERM to <paramref name="target"/>, then measure until grants resume or <paramref name="bound"/> passes.</summary>
    public Task<FaultReport> TerminateAsync(SiloProcess target, string hosts, TimeSpan bound, CancellationToken cancellationToken)
    {
        var (at, exited) = cluster.Terminate(target, GracefulExitTimeout);
        return MeasureAsync("SIGTERM", target, hosts, at, exited, bound, cancellationToken);
    }

    private async Task<FaultReport> MeasureAsync(
        string fault,
        SiloProcess target,
        string hosts,
        TimeSpan at,
        Task<bool>? gracefulExit,
        TimeSpan bound,
        CancellationToken cancellationToken)
    {
        using var trailStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var trail = limiter is null ? Task.FromResult(new List<string>()) : RecordStatusTrailAsync(limiter, trailStop.Token);
        var measurement = await probe.MeasureStallAsync(at, () => target.Process.ExitedAt, bound, cancellationToken);
        await trailStop.CancelAsync();
        var statuses = await trail;
        var clean = gracefulExit is null || await gracefulExit.WaitAsync(GracefulExitTimeout + TimeSpan.FromSeconds(15), cancellationToken);

        // Let the upstream pick up again before reading its idle time. At least 5 s: a lost batch host stalls dispatch
        // (not grants) until the batch is reactivated, which the upstream sees only after the in-flight items finished.
        var upstreamWindowEnd = at + Max((measurement.ResumedAfter ?? bound) + TimeSpan.FromSeconds(1), UpstreamWindow);
        if (upstreamWindowEnd > Timeline.Now)
        {
            await Task.Delay(upstreamWindowEnd - Timeline.Now, cancellationToken);
        }

        var report = new FaultReport(
            at,
            fault,
            target.Name,
            hosts,
            measurement.Stall,
            measurement.ResumedAfter,
            sampler.LongestIdle(at, upstreamWindowEnd),
            target.Process.ExitedAt - at,
            cluster.DeclaredDeadAt(target) - at,
            clean,
            bound,
            measurement.DescribeRefusals());
        log(report.Describe());
        if (measurement.Stall is not { } stalled || stalled > ExplainStallsAbove)
        {
            log("limiter status during the stall:\n  " + string.Join("\n  ", statuses));
        }

        return report;
    }

    /// <summary>The limiter's status every half second, as one line each, from any running silo.</summary>
    private async Task<List<string>> RecordStatusTrailAsync(string name, CancellationToken cancellationToken)
    {
        var trail = new List<string>();
        while (!cancellationToken.IsCancellationRequested)
        {
            var at = Timeline.Now;
            try
            {
                var apis = cluster.RunningApis();
                var status = await apis[trail.Count % apis.Count].GetLimiterJsonAsync(name, cancellationToken);
                trail.Add($"t={at.TotalSeconds:0.0}: inUse {status.GetProperty("inUse")}, waiting {status.GetProperty("waiting")}, " +
                    $"epoch {status.GetProperty("epoch")}, holders {status.GetProperty("holders")}");
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                trail.Add($"t={at.TotalSeconds:0.0}: {ex.GetType().Name}");
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                await Task.Delay(500, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return trail;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>What one fault did.</summary>
/// <param name="At">When the signal was sent (<see cref="Timeline"/> time).</param>
/// <param name="Fault"><c>kill -9</c> or <c>SIGTERM</c>.</param>
/// <param name="Target">The silo it hit.</param>
/// <param name="Hosts">What that silo hosted (e.g. <c>limiter+batch</c>).</param>
/// <param name="Stall">Longest time without a grant from the fault until grants resumed; null when they did not within <paramref name="Bound"/>.</param>
/// <param name="ResumedAfter">Fault → first grant asked for after the silo exited.</param>
/// <param name="UpstreamIdle">Longest time the upstream saw no new request, from the fault until a second after grants resumed (at least 5 s).</param>
/// <param name="ExitedAfter">Fault → the process's exit.</param>
/// <param name="DeclaredDeadAfter">Fault → a surviving silo logged it dead in the membership table (null: not seen).</param>
/// <param name="CleanExit">False when a SIGTERMed silo had to be SIGKILLed.</param>
/// <param name="Bound">How long the measurement waited at most.</param>
/// <param name="Refusals">What the probe got instead of grants after the fault.</param>
public sealed record FaultReport(
    TimeSpan At,
    string Fault,
    string Target,
    string Hosts,
    TimeSpan? Stall,
    TimeSpan? ResumedAfter,
    TimeSpan UpstreamIdle,
    TimeSpan? ExitedAfter,
    TimeSpan? DeclaredDeadAfter,
    bool CleanExit,
    TimeSpan Bound,
    string Refusals)
{
    public string Describe() =>
        $"{Fault} {Target} (hosting {Hosts}): " +
        (Stall is { } stall
            ? $"grant stall {stall.TotalSeconds:0.00} s (grants resumed {ResumedAfter!.Value.TotalSeconds:0.00} s after the fault)"
            : $"NO GRANT within {Bound.TotalSeconds:0} s") +
        $", upstream idle {UpstreamIdle.TotalSeconds:0.00} s, exited after {Seconds(ExitedAfter)}, declared dead after {Seconds(DeclaredDeadAfter)}" +
        (CleanExit ? string.Empty : " (did not exit gracefully: SIGKILLed)") +
        $"; probe: {Refusals}";

    private static string Seconds(TimeSpan? span) => span is { } s ? $"{s.TotalSeconds:0.00} s" : "-";
}
