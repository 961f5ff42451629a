using Floodgate.Breakers;
using Floodgate.Catalog;
using Floodgate.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Breakers;

/// <summary>
/// One circuit per upstream, shared by every silo: an item on any silo asks here before calling the upstream and
/// reports back after. State is in memory; losing it (silo crash) closes the circuit, which is the safe default for
/// availability — the global limiter, not the breaker, protects the account's limit.
/// </summary>
internal sealed partial class CircuitBreakerGrain(
    IOptions<CircuitBreakerOptions> options,
    TimeProvider time,
    FloodgateMetrics metrics,
    ILogger<CircuitBreakerGrain> logger) : Grain, ICircuitBreakerGrain, IBreakerViews
{
    private CircuitBreakerCore _core = null!;
    private IDisposable? _gauge;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _core = new CircuitBreakerCore(this.GetPrimaryKeyString(), options.Value, time);
        _gauge = metrics.TrackBreaker(this.GetPrimaryKeyString(), () => _core.State);
        GrainFactory.GetGrain<ICatalogGrain>(CatalogKeys.Breakers).RegisterAsync(this.GetPrimaryKeyString()).Ignore();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _gauge?.Dispose();
        return Task.CompletedTask;
    }

    public Task<BreakerDecision> TryPassAsync() => Task.FromResult(_core.TryPass());

    public Task<BreakerAnswer> TryPassWithViewAsync() => Task.FromResult(new BreakerAnswer(_core.TryPass(), View()));

    public async Task<BreakerView> ReportWithViewAsync(CallResult result, bool wasProbe)
    {
        await ReportAsync(result, wasProbe);
        return View();
    }

    public Task ReportAsync(CallResult result, bool wasProbe)
    {
        var before = _core.State;
        _core.Report(result, wasProbe);
        if (_core.State != before)
        {
            LogStateChanged(this.GetPrimaryKeyString(), before, _core.State, _core.ConsecutiveFailures);
            metrics.BreakerChanged(this.GetPrimaryKeyString(), _core.State);
        }

        return Task.CompletedTask;
    }

    public Task<CircuitStatus> GetStatusAsync() => Task.FromResult(_core.Snapshot());

    public Task<CircuitStatus> ResetAsync()
    {
        _core.Close();
        return Task.FromResult(_core.Snapshot());
    }

    private BreakerView View() => new(_core.State, _core.ConsecutiveFailures > 0);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit {Breaker}: {From} -> {To} after {Failures} consecutive failure(s)")]
    private partial void LogStateChanged(string breaker, CircuitState from, CircuitState to, int failures);
}
