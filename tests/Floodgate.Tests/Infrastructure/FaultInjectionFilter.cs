using Floodgate.Breakers;

namespace Floodgate.Tests.Infrastructure;

/// <summary>
/// Makes every <see cref="ICircuitBreakerGrain.ReportAsync"/> to a breaker named <c>faulty-…</c> throw, as a breaker
/// call lost in a silo failover would: lets tests prove items release their permits whatever the breaker does.
/// </summary>
public sealed class FaultInjectionFilter : IIncomingGrainCallFilter
{
    public const string FaultyBreakerPrefix = "faulty-";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is ICircuitBreakerGrain
            && context.InterfaceMethod.Name == nameof(ICircuitBreakerGrain.ReportAsync)
            && context.TargetId.Key.ToString()!.StartsWith(FaultyBreakerPrefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Injected fault: breaker report lost.");
        }

        return context.Invoke();
    }
}
