using Floodgate.Limiting;

namespace Floodgate.Client.RateLimiting;

/// <summary>
/// Options of the <see cref="System.Threading.RateLimiting.RateLimiter"/> adapter over a global limiter. Copied when the
/// adapter is created: changing them later does not change an existing adapter.
/// </summary>
public sealed class FloodgateRateLimiterOptions
{
    /// <summary>
    /// Permits that may wait in this adapter at once (like <c>ConcurrencyLimiterOptions.QueueLimit</c>). Only requests
    /// that have to wait count: with the queue full, a request is still granted when the global limiter can grant it at
    /// once, and refused at once otherwise. 0 means never wait.
    /// </summary>
    /// <value>The default is 1000.</value>
    public int QueueLimit { get; set; } = RateLimiterConstants.QueueLimit;

    /// <summary>How long a queued acquire waits for the global limiter before it fails.</summary>
    /// <value>The default is <see cref="FloodgateDefaults.AcquireTimeout"/> (5 minutes).</value>
    public TimeSpan QueueTimeout { get; set; } = FloodgateDefaults.AcquireTimeout;

    /// <summary>
    /// The longest <see cref="System.Threading.RateLimiting.RateLimiter.AttemptAcquire"/> blocks its caller for the global
    /// limiter's answer. Without an answer by then the attempt fails, and whatever the limiter granted it is given back.
    /// </summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan AttemptTimeout { get; set; } = RateLimiterConstants.AttemptTimeout;

    /// <summary>
    /// How old this adapter's view of the global count may get before reading statistics fetches it again (in the
    /// background; statistics never wait for the network). <see cref="TimeSpan.Zero"/> refreshes on every read.
    /// </summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan StatisticsRefreshInterval { get; set; } = RateLimiterConstants.StatisticsRefreshInterval;

    /// <summary>Priority class of this adapter's requests.</summary>
    /// <value>The default is <see cref="AcquirePriority.Normal"/>.</value>
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

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add($"AttemptTimeout must be positive (got {AttemptTimeout}).");
        }

        if (StatisticsRefreshInterval < TimeSpan.Zero)
        {
            errors.Add($"StatisticsRefreshInterval must not be negative (got {StatisticsRefreshInterval}).");
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
