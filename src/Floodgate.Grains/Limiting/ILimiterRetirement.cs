namespace Floodgate.Grains.Limiting;

/// <summary>
/// Removes an idle limiter for good: its stored record is deleted and its activation ends. For a limiter that served one
/// short-lived user only (the start-up warm-up's own limiter); grain-to-grain protocol, not on the public surface.
/// </summary>
[Alias("Floodgate.ILimiterRetirement")]
internal interface ILimiterRetirement : IGrainWithStringKey
{
    /// <summary>
    /// When no lease is held and nobody waits: stops granting, deletes the limiter's record from storage and deactivates;
    /// true when done. False, changing nothing, while a lease or a waiter remains (or another activation owns the limiter).
    /// </summary>
    [Alias("Retire")]
    Task<bool> RetireAsync();
}
