using Floodgate.Breakers;

namespace Floodgate.Grains.Breakers;

/// <summary>What a silo needs to know of a breaker to decide for itself while its circuit is closed.</summary>
/// <param name="State">The circuit's state.</param>
/// <param name="CountsFailures">True while the closed circuit counts consecutive failures: a success must then be reported, as it resets them.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.BreakerView")]
internal sealed record BreakerView(
    [property: Id(0)] CircuitState State,
    [property: Id(1)] bool CountsFailures);

/// <summary>The breaker's decision together with its view after it.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.BreakerAnswer")]
internal sealed record BreakerAnswer(
    [property: Id(0)] BreakerDecision Decision,
    [property: Id(1)] BreakerView View);

/// <summary>
/// The breaker grain's calls for silos that keep a <see cref="LocalBreakerViews"/>: the same as
/// <see cref="ICircuitBreakerGrain"/>'s, each answered with the breaker's view so the silo can skip the next calls.
/// </summary>
[Alias("Floodgate.IBreakerViews")]
internal interface IBreakerViews : IGrainWithStringKey
{
    /// <summary><see cref="ICircuitBreakerGrain.TryPassAsync"/>, with the view after it.</summary>
    [Alias("TryPassWithView")]
    Task<BreakerAnswer> TryPassWithViewAsync();

    /// <summary><see cref="ICircuitBreakerGrain.ReportAsync"/>, with the view after it.</summary>
    [Alias("ReportWithView")]
    Task<BreakerView> ReportWithViewAsync(CallResult result, bool wasProbe);
}
