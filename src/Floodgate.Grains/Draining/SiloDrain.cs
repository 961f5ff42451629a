using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Draining;

/// <summary>
/// Lets the item runs of a stopping silo finish before Orleans deactivates them. It runs first thing in the silo's stop
/// (the lifecycle's <see cref="ServiceLifecycleStage.Active"/> stage), while the silo is still an active member:
/// its activations stay valid, so nothing is activated twice meanwhile (once it is marked shutting down, other silos
/// activate its grains afresh). Items asked to start here while it drains refuse (<see cref="SiloStoppingException"/>)
/// and are placed elsewhere. Limiters do not wait: they hand over as soon as the host begins to stop. Runs still going
/// after <see cref="DrainOptions.Timeout"/> are interrupted and run again elsewhere.
/// </summary>
internal sealed partial class SiloDrain(ItemRuns runs, IOptions<DrainOptions> options, TimeProvider time, ILogger<SiloDrain> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloDrain), ServiceLifecycleStage.Active, _ => Task.CompletedTask, DrainAsync);

    /// <summary>Waits for the runs in progress, up to the drain timeout or until the host's own stop deadline.</summary>
    internal async Task DrainAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.Timeout;
        if (timeout <= TimeSpan.Zero)
        {
            return;
        }

        runs.StopAccepting();
        var running = runs.Running;
        if (running == 0)
        {
            return;
        }

        LogDraining(running, timeout);
        var started = time.GetTimestamp();
        using var drainTimeout = new CancellationTokenSource(timeout, time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drainTimeout.Token);
        try
        {
            await runs.WhenIdleAsync(bounded.Token);
            LogDrained(running, time.GetElapsedTime(started));
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(runs.Running, time.GetElapsedTime(started));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: waiting up to {Timeout} for {Running} item run(s) in progress to finish")]
    private partial void LogDraining(int running, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: {Running} item run(s) finished in {Elapsed}")]
    private partial void LogDrained(int running, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: {Running} item run(s) still in progress after {Elapsed}; they are interrupted and run again elsewhere")]
    private partial void LogDrainTimedOut(int running, TimeSpan elapsed);
}
