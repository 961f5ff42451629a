namespace Floodgate;

/// <summary>Defaults shared by the silo, the SDK, the HTTP API and the CLI — one place, no scattered literals.</summary>
public static class FloodgateDefaults
{
    /// <summary>Global concurrency used when neither the caller nor the silo configuration names one (seed 000).</summary>
    public const int MaxConcurrency = 60;

    /// <summary>Local (per batch) limit used when a batch does not name one.</summary>
    public const int LocalLimit = 5;

    /// <summary>Upper bound for a local limit; larger values are almost certainly a mistake.</summary>
    public const int MaxLocalLimit = 10_000;

    /// <summary>Upper bound for any global concurrency limit.</summary>
    public const int MaxConcurrencyLimit = 1_000_000;

    /// <summary>Longest accepted limiter, breaker, processor or batch name.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Largest batch a silo accepts unless configured otherwise (<c>Floodgate:Batches:MaxItems</c>).</summary>
    public const int MaxBatchItems = 10_000_000;

    /// <summary>Limiter a batch uses when it names none.</summary>
    public const string LimiterName = "default";

    /// <summary>Processor a batch uses when it names none.</summary>
    public const string ProcessorName = "echo";

    /// <summary>
    /// Response timeout of grain calls that wait by design (permit acquires, long polls): above the longest wait a
    /// limiter accepts (<c>Limiters:MaxWaitTimeout</c> may be at most this less a minute).
    /// </summary>
    public const string LongCallTimeout = "01:05:00";

    /// <summary>Lease time-to-live when the caller does not ask for one.</summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(60);

    /// <summary>How long a caller waits for a permit when it does not say.</summary>
    public static readonly TimeSpan AcquireTimeout = TimeSpan.FromMinutes(5);
}
