using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Breakers;

/// <summary>Defaults from seed 003: 10 failures open the circuit for 60 s.</summary>
public static class CircuitBreakerConstants
{
    public const int DefaultFailureThreshold = 10;
    public static readonly TimeSpan DefaultBreakDuration = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultLocalViewTtl = TimeSpan.FromMilliseconds(250);
}

/// <summary>Configuration of the shared circuit breakers (section <c>Floodgate:CircuitBreaker</c>).</summary>
public sealed class CircuitBreakerOptions
{
    public const string SectionName = "Floodgate:CircuitBreaker";

    /// <summary>Consecutive failures that open the circuit.</summary>
    public int FailureThreshold { get; set; } = CircuitBreakerConstants.DefaultFailureThreshold;

    /// <summary>How long an open circuit rejects calls before letting one probe through.</summary>
    public TimeSpan BreakDuration { get; set; } = CircuitBreakerConstants.DefaultBreakDuration;

    /// <summary>A probe that never reports back frees the probe slot after this long (its caller may have crashed).</summary>
    public TimeSpan ProbeTimeout { get; set; } = CircuitBreakerConstants.DefaultProbeTimeout;

    /// <summary>
    /// How long a silo trusts its last view of a closed circuit: items pass without asking the breaker and report only
    /// failures (and successes while failures are counted). A trip caused on another silo is seen here within this time.
    /// Zero: every call asks the breaker and reports to it.
    /// </summary>
    public TimeSpan LocalViewTtl { get; set; } = CircuitBreakerConstants.DefaultLocalViewTtl;
}

internal sealed class CircuitBreakerOptionsValidator : IValidateOptions<CircuitBreakerOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerOptions o)
    {
        var errors = new List<string>();
        if (o.FailureThreshold < 1)
        {
            errors.Add($"{CircuitBreakerOptions.SectionName}:FailureThreshold must be at least 1 (got {o.FailureThreshold}).");
        }

        if (o.BreakDuration <= TimeSpan.Zero)
        {
            errors.Add($"{CircuitBreakerOptions.SectionName}:BreakDuration must be positive (got {o.BreakDuration}).");
        }

        if (o.ProbeTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{CircuitBreakerOptions.SectionName}:ProbeTimeout must be positive (got {o.ProbeTimeout}).");
        }

        if (o.LocalViewTtl < TimeSpan.Zero || o.LocalViewTtl > o.BreakDuration)
        {
            errors.Add($"{CircuitBreakerOptions.SectionName}:LocalViewTtl must be between 0 and BreakDuration ({o.BreakDuration}) (got {o.LocalViewTtl}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
