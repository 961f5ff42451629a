namespace Floodgate.Client.RateLimiting;

/// <summary>Defaults of <see cref="FloodgateRateLimiterOptions"/>, in one place.</summary>
internal static class RateLimiterConstants
{
    public const int QueueLimit = 1000;

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan StatisticsRefreshInterval = TimeSpan.FromSeconds(1);
}
