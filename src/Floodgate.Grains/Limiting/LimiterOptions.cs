using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Limiting;

/// <summary>Silo configuration of global limiters (section <c>Floodgate:Limiters</c>).</summary>
public sealed class LimiterOptions
{
    public const string SectionName = "Floodgate:Limiters";

    /// <summary>Concurrency of a limiter that neither a caller nor <see cref="Limits"/> configures.</summary>
    public int DefaultMaxConcurrency { get; set; } = FloodgateDefaults.MaxConcurrency;

    /// <summary>Per-limiter concurrency from configuration, e.g. <c>Floodgate__Limiters__Limits__replicate:acct-42=80</c>.</summary>
    public Dictionary<string, int> Limits { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per-limiter requests-per-minute budget from configuration, e.g. <c>Floodgate__Limiters__RequestsPerMinute__openai:acct-1=600</c>.</summary>
    public Dictionary<string, int> RequestsPerMinute { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Per-limiter model tokens-per-minute budget from configuration: grants are charged their estimated tokens, corrected
    /// by the caller's usage report (the gateway fills this from <c>Floodgate:Gateway:Upstreams:{name}:TokensPerMinute</c>).
    /// </summary>
    public Dictionary<string, int> TokensPerMinute { get; set; } = new(StringComparer.Ordinal);

    /// <summary>After an upstream 429 halved a limiter's concurrency, calls without pushback per step back up.</summary>
    public int BackoffIncreaseAfterSuccesses { get; set; } = LimiterConstants.BackoffIncreaseAfterSuccesses;

    /// <summary>Longest pause of all grants taken from an upstream's <c>Retry-After</c> or <c>x-ratelimit-reset-*</c>.</summary>
    public TimeSpan BackoffMaxPause { get; set; } = LimiterConstants.BackoffMaxPause;

    /// <summary>Share of a requests-per-minute (and tokens-per-minute) budget actually used (seed 003: 600 rpm × 0.8).</summary>
    public double RateSafetyFactor { get; set; } = 0.8;

    /// <summary>Lease TTL when the caller does not ask for one.</summary>
    public TimeSpan DefaultLeaseTtl { get; set; } = FloodgateDefaults.LeaseTtl;

    /// <summary>Shortest TTL a caller may ask for.</summary>
    public TimeSpan MinLeaseTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest TTL a caller may ask for.</summary>
    public TimeSpan MaxLeaseTtl { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Longest time a caller may wait in the queue.</summary>
    public TimeSpan MaxWaitTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Longest time one acquire call is held in the limiter; a longer wait goes on in slices of this (the caller calls
    /// again with the same request id and keeps its place). Orleans deactivates an activation only once no request runs
    /// in it, so this bounds how long a limiter that must move (shutdown, rebalancing, a lost directory entry) keeps
    /// callers, releases and renewals waiting.
    /// </summary>
    public TimeSpan MaxRequestHold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a waiter answered "still queued" keeps its place without its caller calling again, and how long a grant
    /// made to such a waiter waits to be picked up before it is released (the caller is gone).
    /// </summary>
    public TimeSpan AbandonedWaiterGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often expired leases are swept.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Write the lease table with exact expiries when a limiter deactivates (silo shutdown, migration, idle), so its
    /// successor counts each lease only as long as it lives. Off for a single silo with in-memory storage, where the
    /// record dies with the silo anyway.
    /// </summary>
    public bool HandOverOnDeactivation { get; set; } = true;

    /// <summary>
    /// How often releases, renewals and expiries are written (grants are written before they are returned); the check
    /// runs at the shorter of this and <see cref="ConfirmInterval"/>.
    /// </summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait hint returned with a timed-out acquire.</summary>
    public TimeSpan RetryAfterHint { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest time an activation goes without a write (it writes just to re-confirm its claim when idle); at most half
    /// the default lease TTL. A duplicate activation learns it was fenced within this time (its first write fails, so it
    /// never answers a grant or renewal).
    /// </summary>
    public TimeSpan ConfirmInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The requests-per-minute budget from configuration for <paramref name="limiter"/>, or null.</summary>
    public int? ConfiguredRateFor(string limiter) => RequestsPerMinute.TryGetValue(limiter, out var rpm) ? rpm : null;

    /// <summary>The tokens-per-minute budget from configuration for <paramref name="limiter"/>, or null.</summary>
    public int? ConfiguredTokenRateFor(string limiter) => TokensPerMinute.TryGetValue(limiter, out var tpm) ? tpm : null;

    /// <summary>The limit from configuration for <paramref name="limiter"/>, or null when only the default applies.</summary>
    public int? ConfiguredLimitFor(string limiter) => Limits.TryGetValue(limiter, out var limit) ? limit : null;
}

internal sealed class LimiterOptionsValidator : IValidateOptions<LimiterOptions>
{
    public ValidateOptionsResult Validate(string? name, LimiterOptions o)
    {
        var errors = new List<string>();
        if (o.DefaultMaxConcurrency is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
        {
            errors.Add($"{LimiterOptions.SectionName}:DefaultMaxConcurrency must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {o.DefaultMaxConcurrency}).");
        }

        foreach (var (limiter, limit) in o.Limits)
        {
            if (Names.CheckUnreserved("Limiter name", limiter) is { } problem)
            {
                errors.Add($"{LimiterOptions.SectionName}:Limits: {problem}");
            }

            if (limit is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
            {
                errors.Add($"{LimiterOptions.SectionName}:Limits:{limiter} must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {limit}).");
            }
        }

        foreach (var (limiter, rpm) in o.RequestsPerMinute)
        {
            if (rpm is <= 0 or > LimiterLimitsValidator.MaxRequestsPerMinute)
            {
                errors.Add($"{LimiterOptions.SectionName}:RequestsPerMinute:{limiter} must be between 1 and {LimiterLimitsValidator.MaxRequestsPerMinute} (got {rpm}).");
            }
        }

        foreach (var (limiter, tpm) in o.TokensPerMinute)
        {
            if (tpm is <= 0 or > LimiterLimitsValidator.MaxTokensPerMinute)
            {
                errors.Add($"{LimiterOptions.SectionName}:TokensPerMinute:{limiter} must be between 1 and {LimiterLimitsValidator.MaxTokensPerMinute} (got {tpm}).");
            }
        }

        if (o.BackoffIncreaseAfterSuccesses < 1)
        {
            errors.Add($"{LimiterOptions.SectionName}:BackoffIncreaseAfterSuccesses must be at least 1 (got {o.BackoffIncreaseAfterSuccesses}).");
        }

        if (o.BackoffMaxPause <= TimeSpan.Zero || o.BackoffMaxPause > TimeSpan.FromHours(1))
        {
            errors.Add($"{LimiterOptions.SectionName}:BackoffMaxPause must be positive and at most one hour (got {o.BackoffMaxPause}).");
        }

        if (!(o.RateSafetyFactor > 0 && o.RateSafetyFactor <= 1))
        {
            errors.Add($"{LimiterOptions.SectionName}:RateSafetyFactor must be above 0 and at most 1 (got {o.RateSafetyFactor}).");
        }

        if (o.MinLeaseTtl <= TimeSpan.Zero || o.MinLeaseTtl > o.MaxLeaseTtl)
        {
            errors.Add($"{LimiterOptions.SectionName}: MinLeaseTtl must be positive and not above MaxLeaseTtl.");
        }

        if (o.DefaultLeaseTtl < o.MinLeaseTtl || o.DefaultLeaseTtl > o.MaxLeaseTtl)
        {
            errors.Add($"{LimiterOptions.SectionName}:DefaultLeaseTtl must be between MinLeaseTtl and MaxLeaseTtl (got {o.DefaultLeaseTtl}).");
        }

        if (o.MaxWaitTimeout <= TimeSpan.Zero || o.MaxWaitTimeout > TimeSpan.Parse(FloodgateDefaults.LongCallTimeout) - TimeSpan.FromMinutes(1))
        {
            errors.Add($"{LimiterOptions.SectionName}:MaxWaitTimeout must be positive and at most one hour (got {o.MaxWaitTimeout}).");
        }

        if (o.SweepInterval <= TimeSpan.Zero || o.SweepInterval > o.MinLeaseTtl)
        {
            errors.Add($"{LimiterOptions.SectionName}:SweepInterval must be positive and not above MinLeaseTtl (got {o.SweepInterval}).");
        }

        if (o.ConfirmInterval <= TimeSpan.Zero || o.ConfirmInterval > o.DefaultLeaseTtl / 2)
        {
            errors.Add($"{LimiterOptions.SectionName}:ConfirmInterval must be positive and at most half of DefaultLeaseTtl (got {o.ConfirmInterval}).");
        }

        if (o.PersistInterval <= TimeSpan.Zero)
        {
            errors.Add($"{LimiterOptions.SectionName}:PersistInterval must be positive (got {o.PersistInterval}).");
        }

        if (o.MaxRequestHold <= TimeSpan.Zero || o.MaxRequestHold > TimeSpan.FromSeconds(30))
        {
            errors.Add($"{LimiterOptions.SectionName}:MaxRequestHold must be positive and at most 30 seconds (got {o.MaxRequestHold}).");
        }

        if (o.AbandonedWaiterGrace < o.MaxRequestHold || o.AbandonedWaiterGrace > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{LimiterOptions.SectionName}:AbandonedWaiterGrace must be at least MaxRequestHold and at most 5 minutes (got {o.AbandonedWaiterGrace}).");
        }

        if (o.RetryAfterHint <= TimeSpan.Zero)
        {
            errors.Add($"{LimiterOptions.SectionName}:RetryAfterHint must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
