using Floodgate.Grains.WarmUp;
using Microsoft.Extensions.Options;

namespace Floodgate.Silo.Hosting.WarmUp;

/// <summary>
/// Runs the start-up warm-up (<see cref="SiloWarmUp"/>) once the silo has joined its cluster, in the background: Orleans
/// takes grain calls at once, only <c>/health/ready</c> waits for it (<see cref="WarmUpHealthCheck"/>). After each round
/// the HTTP API is warmed too (<see cref="WarmUpHttp"/>). A warm-up that fails or runs out of time is logged and the silo
/// goes on cold; it never stops the silo.
/// </summary>
internal sealed partial class WarmUpService(
    SiloWarmUp warmUp,
    WarmUpStatus status,
    IOptions<WarmUpOptions> options,
    Func<WarmUpHttp> http,
    TimeProvider time,
    ILogger<WarmUpService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            status.Finish($"The start-up warm-up is off ({WarmUpOptions.SectionName}:Enabled).");
            return;
        }

        // Off the host's start path: the hosted services after this one, and Kestrel, start meanwhile.
        await Task.Yield();
        var started = time.GetTimestamp();
        using var budget = new CancellationTokenSource(settings.Timeout, time);
        using var stopOrBudget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, budget.Token);
        using var api = http();
        try
        {
            var plan = new WarmUpPlan(settings.Items, settings.MaxRounds, WarmUpDefaults.Concurrency);
            var result = await warmUp.RunAsync(plan, stopOrBudget.Token, api.AfterRoundAsync);
            var seconds = time.GetElapsedTime(started).TotalSeconds;
            LogWarmedUp(seconds, result.Rounds, result.Items, result.CompiledMethods, result.Settled ? "settled" : "still compiling at the last round");
            status.Finish(FormattableString.Invariant($"Warmed up in {seconds:0.0} s ({result.Rounds} rounds, {result.Items} items)."));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            status.Finish("The silo stopped during its warm-up.");
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            LogTimedOut(settings.Timeout.TotalSeconds);
            status.Finish(FormattableString.Invariant($"The warm-up ran out of time ({settings.Timeout.TotalSeconds:0.#} s); serving without it."));
        }
        catch (Exception ex)
        {
            LogFailed(ex);
            status.Finish($"The warm-up failed ({ex.GetType().Name}); serving without it.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up done in {Seconds:0.0} s: {Rounds} round(s), {Items} echo items through the item path, {Compiled} methods compiled ({State}); ready")]
    private partial void LogWarmedUp(double seconds, int rounds, int items, long compiled, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-up stopped after its time budget of {Seconds} s; the silo is ready and runs partly cold")]
    private partial void LogTimedOut(double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-up failed; the silo is ready and runs cold")]
    private partial void LogFailed(Exception ex);
}
