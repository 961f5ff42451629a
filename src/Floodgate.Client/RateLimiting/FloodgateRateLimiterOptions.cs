using Floodgate.Limiting;

namespace Floodgate.Client.RateLimiting;

/// <summary>Options of the <see cref="System.Threading.RateLimiting.RateLimiter"/> adapter over a global limiter.</summary>
public sealed class FloodgateRateLimiterOptions
{
    /// <summary>Permits that may wait in this adapter at once; more are refused at once (like <c>ConcurrencyLimiterOptions.QueueLimit</c>).</summary>
    public int QueueLimit { get; set; } = 1000;

    /// <summary>How long a queued acquire waits for the global limiter before it fails.</summary>
    public TimeSpan QueueTimeout { get; set; } = FloodgateDefaults.AcquireTimeout;

    /// <summary>Priority class of this adapter's requests.</summary>
    public AcquirePriority Priority { get; set; } = AcquirePriority.Normal;

    /// <summary>Lease holder name; null uses the client's id.</summary>
    public string? Holder { get; set; }

    /// <summary>Returns every problem in the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (QueueLimit < 0)
        {
            errors.Add($"QueueLimit must not be negative (got {QueueLimit}).");
        }

        if (QueueTimeout < TimeSpan.Zero)
        {
            errors.Add($"QueueTimeout must not be negative (got {QueueTimeout}).");
        }

        if (!Enum.IsDefined(Priority))
        {
            errors.Add("Priority must be Low, Normal or High.");
        }

        if (Holder is not null && Validation.Names.Check("Holder", Holder) is { } problem)
        {
            errors.Add(problem);
        }

        return errors;
    }
}
