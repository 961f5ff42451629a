using Floodgate.Grains.Breakers;
using Floodgate.Grains.Limiting;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Items;

/// <summary>Defaults for item processing in one place (seed 003: 3 retries, 1 s base delay).</summary>
public static class ItemProcessingConstants
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromMinutes(15);
    public const int MaxRetryAttempts = 3;
    public static readonly TimeSpan BaseDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan ClusterRetryTimeout = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan ClusterRetryDelay = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan ClusterRetryMaxDelay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan ReportRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// What an item's lease lives beyond its attempt timeout: the time from the grant to the start of the call (an
    /// item confirms a lease with less than the attempt timeout left before it calls).
    /// </summary>
    public static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(5);

    /// <summary>How often an item lane looks whether it has been idle: one idle look-period later its activation goes.</summary>
    public static readonly TimeSpan LaneIdleCheck = TimeSpan.FromSeconds(5);
}

/// <summary>How items are processed (section <c>Floodgate:Items</c>): the Polly pipeline and permit waiting.</summary>
public sealed class ItemProcessingOptions
{
    public const string SectionName = "Floodgate:Items";

    /// <summary>
    /// Timeout of one upstream call. An item's lease lives this plus <see cref="ItemProcessingConstants.LeaseMargin"/> (at
    /// most the limiters' default TTL, which must be longer), so a call never outlives its permit and the permits of
    /// items that died with their silo come back soon after their calls must have ended.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = ItemProcessingConstants.AttemptTimeout;

    /// <summary>Timeout of the whole item: permit waits, attempts and backoff delays.</summary>
    public TimeSpan TotalTimeout { get; set; } = ItemProcessingConstants.TotalTimeout;

    /// <summary>Retries after the first attempt for transient failures (429, 5xx, timeouts, open circuit); 0 = no retry.</summary>
    public int MaxRetryAttempts { get; set; } = ItemProcessingConstants.MaxRetryAttempts;

    /// <summary>First backoff delay; doubles each retry.</summary>
    public TimeSpan BaseDelay { get; set; } = ItemProcessingConstants.BaseDelay;

    /// <summary>Largest backoff delay.</summary>
    public TimeSpan MaxDelay { get; set; } = ItemProcessingConstants.MaxDelay;

    /// <summary>Largest wait honoured from an upstream Retry-After or an open circuit.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = ItemProcessingConstants.MaxRetryAfter;

    /// <summary>Randomise backoff delays so retries of many items do not arrive together.</summary>
    public bool UseJitter { get; set; } = true;

    /// <summary>How long one attempt waits for a global permit.</summary>
    public TimeSpan AcquireTimeout { get; set; } = FloodgateDefaults.AcquireTimeout;

    /// <summary>
    /// How long a limiter or breaker call (and an item's outcome report) is retried through cluster faults (a silo dying
    /// or stopping, a limiter moving) before the item fails naming the fault. Default 2 min: far above failure detection.
    /// </summary>
    public TimeSpan ClusterRetryTimeout { get; set; } = ItemProcessingConstants.ClusterRetryTimeout;
}

internal sealed class ItemProcessingOptionsValidator(IOptions<LimiterOptions> limiterOptions, IOptions<CircuitBreakerOptions> breakerOptions)
    : IValidateOptions<ItemProcessingOptions>
{
    public ValidateOptionsResult Validate(string? name, ItemProcessingOptions o)
    {
        var section = ItemProcessingOptions.SectionName;
        var errors = new List<string>();
        if (o.AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{section}:AttemptTimeout must be positive (got {o.AttemptTimeout}).");
        }
        else if (o.AttemptTimeout >= limiterOptions.Value.DefaultLeaseTtl)
        {
            errors.Add($"{section}:AttemptTimeout ({o.AttemptTimeout}) must be shorter than {LimiterOptions.SectionName}:DefaultLeaseTtl ({limiterOptions.Value.DefaultLeaseTtl}).");
        }

        if (breakerOptions.Value.ProbeTimeout <= o.AttemptTimeout)
        {
            errors.Add($"{CircuitBreakerOptions.SectionName}:ProbeTimeout ({breakerOptions.Value.ProbeTimeout}) must be longer than {section}:AttemptTimeout ({o.AttemptTimeout}): a half-open probe must be able to finish.");
        }

        if (o.TotalTimeout < o.AttemptTimeout)
        {
            errors.Add($"{section}:TotalTimeout must be at least AttemptTimeout (got {o.TotalTimeout}).");
        }

        if (o.MaxRetryAttempts is < 0 or > 100)
        {
            errors.Add($"{section}:MaxRetryAttempts must be between 0 and 100 (got {o.MaxRetryAttempts}).");
        }

        if (o.BaseDelay <= TimeSpan.Zero || o.MaxDelay < o.BaseDelay)
        {
            errors.Add($"{section}: BaseDelay must be positive and MaxDelay at least BaseDelay.");
        }

        if (o.MaxRetryAfter <= TimeSpan.Zero)
        {
            errors.Add($"{section}:MaxRetryAfter must be positive.");
        }

        if (o.ClusterRetryTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{section}:ClusterRetryTimeout must be positive (got {o.ClusterRetryTimeout}).");
        }

        if (o.AcquireTimeout <= TimeSpan.Zero || o.AcquireTimeout > limiterOptions.Value.MaxWaitTimeout)
        {
            errors.Add($"{section}:AcquireTimeout must be positive and at most {LimiterOptions.SectionName}:MaxWaitTimeout.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
