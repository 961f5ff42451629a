using Floodgate.Grains.References;
using Floodgate.Limiting;

namespace Floodgate.Grains.Items;

/// <summary>
/// Sends this silo's item lease releases to their limiters in groups, one <see cref="IGlobalLimiterGrain.ReleaseManyAsync"/>
/// call in flight per limiter (<see cref="GroupedCalls{TKey, T}"/>): under load a limiter hears one message for many
/// releases instead of one each. Each release learns whether it was delivered and is retried as before when not; a
/// release is idempotent, so a repeated one changes nothing.
/// </summary>
internal sealed class LeaseReleases
{
    /// <summary>Most releases in one call.</summary>
    public const int MaxGroup = 1_000;

    private readonly GroupedCalls<IGlobalLimiterGrain, string> _calls = new((limiter, leaseIds) => limiter.ReleaseManyAsync(leaseIds), MaxGroup);

    /// <summary>Completes once <paramref name="limiter"/> has released <paramref name="leaseId"/>; faults with the call's error when it did not.</summary>
    public Task ReleaseAsync(IGlobalLimiterGrain limiter, string leaseId) => _calls.SendAsync(limiter, leaseId);
}
