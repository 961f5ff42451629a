using System.Collections.Concurrent;
using Floodgate.Breakers;
using Floodgate.Grains.Breakers;
using Floodgate.Limiting;

namespace Floodgate.Tests.Infrastructure;

/// <summary>
/// Injects the faults a silo failover causes, chosen by the name of the grain or holder, so tests prove that nothing
/// over-admits, leaks or fails an item because of them:
/// <list type="bullet">
/// <item><c>faulty-…</c> breaker: every report throws (a lost report), and its views count failures, so every result is reported.</item>
/// <item><c>flaky-…</c> limiter: the first acquire of each request id is rejected as by a dead silo, and every other
/// call to a <c>flaky-…</c> breaker's <see cref="ICircuitBreakerGrain.TryPassAsync"/> is rejected likewise.</item>
/// <item><c>slow-reply-…</c> limiter: an acquire's answer leaves the grain, then takes <see cref="ReplyDelay"/> to arrive
/// (the window in which a caller that gives up orphans a grant in transit).</item>
/// <item>holder <c>droprenew-…</c>: while <see cref="DropRenewals"/> is on, its renewals are lost on the way (the caller
/// sees a timeout).</item>
/// </list>
/// </summary>
public sealed class FaultInjectionFilter : IIncomingGrainCallFilter
{
    public const string FaultyBreakerPrefix = "faulty-";
    public const string FlakyPrefix = "flaky-";
    public const string SlowReplyPrefix = "slow-reply-";
    public const string DropRenewalsHolderPrefix = "droprenew-";
    public static readonly TimeSpan ReplyDelay = TimeSpan.FromMilliseconds(500);

    private static readonly ConcurrentDictionary<string, int> Calls = new();

    /// <summary>Switches the loss of <c>droprenew-…</c> holders' renewals on and off.</summary>
    public static volatile bool DropRenewals;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var key = context.TargetId.Key.ToString()!;
        var method = context.InterfaceMethod.Name;
        if (context.Grain is ICircuitBreakerGrain)
        {
            var isReport = method is nameof(ICircuitBreakerGrain.ReportAsync) or nameof(IBreakerViews.ReportWithViewAsync);
            var isPass = method is nameof(ICircuitBreakerGrain.TryPassAsync) or nameof(IBreakerViews.TryPassWithViewAsync);
            if (isReport && key.StartsWith(FaultyBreakerPrefix, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("Injected fault: breaker report lost.");
            }

            if (method == nameof(IBreakerViews.TryPassWithViewAsync) && key.StartsWith(FaultyBreakerPrefix, StringComparison.Ordinal))
            {
                // A faulty breaker counts failures, so silos must report every success to it (and those reports get lost).
                await context.Invoke();
                var answer = (BreakerAnswer)context.Result!;
                context.Result = answer with { View = answer.View with { CountsFailures = true } };
                return;
            }

            if (isPass && key.StartsWith(FlakyPrefix, StringComparison.Ordinal)
                && Calls.AddOrUpdate($"pass/{key}", 1, (_, n) => n + 1) % 2 == 1)
            {
                throw new Orleans.Runtime.SiloUnavailableException("Injected fault: the breaker's silo is stopping.");
            }
        }

        if (context.Grain is IGlobalLimiterGrain)
        {
            if (method == nameof(IGlobalLimiterGrain.AcquireAsync) && key.StartsWith(FlakyPrefix, StringComparison.Ordinal)
                && context.Request.GetArgument(0) is AcquireRequest { RequestId: { } requestId }
                && Calls.TryAdd($"acquire/{requestId}", 1))
            {
                throw new Orleans.Runtime.SiloUnavailableException("Injected fault: the limiter's silo died.");
            }

            if (DropRenewals && method == nameof(IGlobalLimiterGrain.RenewAsync)
                && context.Request.GetArgument(0) is RenewRequest { Holder: { } holder }
                && holder.StartsWith(DropRenewalsHolderPrefix, StringComparison.Ordinal))
            {
                throw new TimeoutException("Injected fault: the renewal was lost.");
            }

            if (method == nameof(IGlobalLimiterGrain.AcquireAsync) && key.StartsWith(SlowReplyPrefix, StringComparison.Ordinal))
            {
                await context.Invoke();
                await Task.Delay(ReplyDelay);
                return;
            }
        }

        await context.Invoke();
    }
}
