using System.Collections.Concurrent;
using Floodgate.Breakers;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Breakers;

/// <summary>
/// This silo's recent view of each shared breaker, so that items skip the breaker's grain while its circuit is closed:
/// a closed breaker lets every call pass, and a success changes nothing unless failures are being counted. Items then
/// ask the grain only when the view is older than <see cref="CircuitBreakerOptions.LocalViewTtl"/> or not closed, and
/// report only failures, probes, and successes while failures are counted. Every answer of the grain refreshes the
/// view, so a failure reported from this silo (and a trip it causes) is seen here at once; one reported from another
/// silo is seen within the TTL. A TTL of zero turns the views off: every call asks and reports, as the grain alone decides.
/// </summary>
internal sealed class LocalBreakerViews(IOptions<CircuitBreakerOptions> options, TimeProvider time)
{
    /// <summary>Breakers remembered; past this many the views start over (names come from batch definitions).</summary>
    public const int MaxBreakers = 1_024;

    private readonly TimeSpan _ttl = options.Value.LocalViewTtl;
    private readonly ConcurrentDictionary<string, Seen> _views = new(StringComparer.Ordinal);

    private sealed record Seen(BreakerView View, DateTimeOffset At);

    /// <summary>True when the circuit is known to be closed right now: the call may go without asking the breaker.</summary>
    public bool IsKnownClosed(string breaker) => Fresh(breaker) is { State: CircuitState.Closed };

    /// <summary>
    /// Whether a call's result must go to the breaker's grain: always a failure or anything of a probe; a success unless
    /// the circuit is known closed without counted failures; never an ignored result of a plain call (it changes nothing).
    /// </summary>
    public bool MustReport(string breaker, CallResult result, bool wasProbe) => result switch
    {
        _ when wasProbe => true,
        CallResult.Failure => true,
        CallResult.Success => Fresh(breaker) is not { State: CircuitState.Closed, CountsFailures: false },
        _ => false,
    };

    /// <summary>Takes the view the breaker's grain answered with.</summary>
    public void Learn(string breaker, BreakerView view)
    {
        if (_ttl <= TimeSpan.Zero)
        {
            return;
        }

        if (_views.Count >= MaxBreakers && !_views.ContainsKey(breaker))
        {
            _views.Clear();
        }

        _views[breaker] = new Seen(view, time.GetUtcNow());
    }

    private BreakerView? Fresh(string breaker) =>
        _views.TryGetValue(breaker, out var seen) && time.GetUtcNow() - seen.At < _ttl ? seen.View : null;
}
