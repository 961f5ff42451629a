namespace Floodgate.Limiting;

/// <summary>A request for permits from a global limiter.</summary>
/// <param name="Holder">Who will hold the lease (a batch id or a client id); grants are fair across holders.</param>
/// <param name="Weight">How many permits the lease takes (1 for one upstream call).</param>
/// <param name="WaitTimeout">How long to wait in the queue before giving up; <see cref="TimeSpan.Zero"/> means do not wait.</param>
/// <param name="LeaseTtl">How long the lease lives unless renewed; null uses the limiter's default.</param>
/// <param name="Priority">Priority class: waiters of a higher class are granted first; within a class, round-robin across holders.</param>
/// <param name="RequestId">
/// A caller-chosen id that makes the acquire idempotent and cancellable: repeating the acquire with the same id returns
/// the same lease (or joins the same wait), and <see cref="IGlobalLimiterGrain.CancelAcquireAsync"/> with it releases
/// whatever the request was granted — also a grant still on its way back to a caller that already gave up.
/// Null: the acquire can only be undone by releasing the lease it returns.
/// </param>
[GenerateSerializer, Immutable, Alias("Floodgate.AcquireRequest")]
public sealed record AcquireRequest(
    [property: Id(0)] string Holder,
    [property: Id(1)] int Weight,
    [property: Id(2)] TimeSpan WaitTimeout,
    [property: Id(3)] TimeSpan? LeaseTtl = null,
    [property: Id(4)] AcquirePriority Priority = AcquirePriority.Normal,
    [property: Id(5)] string? RequestId = null)
{
    /// <summary>A fresh request id for callers that want their acquire to be cancellable (a GUID, 32 hex digits).</summary>
    public static string NewRequestId() => Guid.NewGuid().ToString("N");
}

/// <summary>Priority classes of waiters. Strict: a higher class is always served before a lower one.</summary>
public enum AcquirePriority
{
    /// <summary>Background work; served when no normal or high waiter fits.</summary>
    Low = -1,

    /// <summary>The default.</summary>
    Normal = 0,

    /// <summary>Interactive work; served first.</summary>
    High = 1,
}

/// <summary>
/// A renewal of <see cref="LeaseId"/> by its TTL. When <see cref="Holder"/> is given the lease is renewed only if that
/// holder holds it, so a caller can never keep someone else's permits alive by mistake.
/// </summary>
[GenerateSerializer, Immutable, Alias("Floodgate.RenewRequest")]
public sealed record RenewRequest(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string? Holder = null)
{
    /// <summary>The renewal of a lease as granted.</summary>
    public static RenewRequest For(Lease lease) => new(lease.LeaseId, lease.Holder);
}

/// <summary>A granted lease: permits held until released or until <see cref="ExpiresAt"/> passes without renewal.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.Lease")]
public sealed record Lease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string Limiter,
    [property: Id(2)] string Holder,
    [property: Id(3)] int Weight,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] TimeSpan Ttl);

/// <summary>Why an acquire did not get a lease.</summary>
public enum AcquireFailure
{
    /// <summary>No failure: the lease was granted.</summary>
    None = 0,

    /// <summary>The wait timeout passed before permits became free.</summary>
    Timeout = 1,


    /// <summary>
    /// This activation of the limiter stopped granting (another activation claimed it, or it is handing over to a
    /// successor during a shutdown or migration); retry at once: the next call reaches the current activation.
    /// </summary>
    Fenced = 3,

    /// <summary>The request id was cancelled by its caller before this acquire arrived; nothing was granted.</summary>
    Cancelled = 4,

    /// <summary>The limiter could not make the grant durable (its storage failed); nothing was granted; retry.</summary>
    Unavailable = 5,

    /// <summary>
    /// Still queued: the limiter holds one call for at most its <c>MaxRequestHold</c>, so that a limiter activation that
    /// has to go away (silo shutdown, rebalancing, a lost directory entry) is never held up by its waiters. The place in
    /// the queue is kept for <see cref="AcquireResult.RequestId"/>: call again at once with that request id and what is
    /// left of the wait (<see cref="LimiterAcquireExtensions.AcquireWaitingAsync"/> does).
    /// </summary>
    Queued = 6,
}

/// <summary>The answer to an acquire: a lease, or a failure with a hint of when to try again, and the permits left free.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.AcquireResult")]
public sealed record AcquireResult(
    [property: Id(0)] Lease? Lease,
    [property: Id(1)] AcquireFailure Failure,
    [property: Id(2)] string? Reason,
    [property: Id(3)] TimeSpan? RetryAfter,
    [property: Id(4)] int Available,
    [property: Id(5)] string? RequestId = null)
{
    /// <summary>True when a lease was granted.</summary>
    public bool Granted => Lease is not null;

    /// <summary>A successful result; <paramref name="available"/> is what remained free after the grant.</summary>
    public static AcquireResult Success(Lease lease, int available) => new(lease, AcquireFailure.None, null, null, available);

    /// <summary>The wait goes on in the queue under <paramref name="requestId"/>; the caller asks again with it.</summary>
    public static AcquireResult StillQueued(string requestId, int available) =>
        new(null, AcquireFailure.Queued, "Still waiting in the queue.", TimeSpan.Zero, available, requestId);

    /// <summary>A failed result.</summary>
    public static AcquireResult Fail(AcquireFailure failure, string reason, TimeSpan? retryAfter, int available) =>
        new(null, failure, reason, retryAfter, available);
}

/// <summary>Where a limiter's current concurrency limit came from (limit priority, seed 000).</summary>
public enum LimitSource
{
    /// <summary>The built-in default (60).</summary>
    Default = 0,

    /// <summary>The silo's configuration or environment.</summary>
    Configuration = 1,

    /// <summary>An explicit value from a batch or client (the first one wins).</summary>
    Explicit = 2,

    /// <summary>An administrator's live change.</summary>
    Admin = 3,
}

/// <summary>Limits to apply to a limiter.</summary>
/// <param name="MaxConcurrency">Permits that may be held at once.</param>
/// <param name="RequestsPerMinute">The account's request rate; null means no rate budget.</param>
/// <param name="RateSafetyFactor">Share of <paramref name="RequestsPerMinute"/> actually used (seed 003: 0.8); null uses the silo's.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.LimiterLimits")]
public sealed record LimiterLimits(
    [property: Id(0)] int MaxConcurrency,
    [property: Id(1)] int? RequestsPerMinute = null,
    [property: Id(2)] double? RateSafetyFactor = null);

/// <summary>The one set of rules for limits, used by the SDK, the HTTP API, the CLI and the limiter grain.</summary>
public static class LimiterLimitsValidator
{
    /// <summary>Largest requests-per-minute budget accepted.</summary>
    public const int MaxRequestsPerMinute = 10_000_000;

    /// <summary>Returns every problem in <paramref name="limits"/>; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(LimiterLimits? limits)
    {
        if (limits is null)
        {
            return ["Limits are required."];
        }

        var errors = new List<string>();
        if (limits.MaxConcurrency is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
        {
            errors.Add($"Max concurrency must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {limits.MaxConcurrency}).");
        }

        if (limits.RequestsPerMinute is { } rpm && rpm is <= 0 or > MaxRequestsPerMinute)
        {
            errors.Add($"Requests per minute must be between 1 and {MaxRequestsPerMinute} (got {rpm}).");
        }

        if (limits.RateSafetyFactor is { } factor && !(factor > 0 && factor <= 1))
        {
            errors.Add($"Rate safety factor must be above 0 and at most 1 (got {factor}).");
        }

        return errors;
    }

    /// <summary>Throws <see cref="Validation.FloodgateValidationException"/> when <paramref name="limits"/> are invalid.</summary>
    public static void ThrowIfInvalid(LimiterLimits? limits)
    {
        var errors = Validate(limits);
        if (errors.Count > 0)
        {
            throw new Validation.FloodgateValidationException(errors);
        }
    }
}

/// <summary>The outcome of asking a limiter to use an explicit limit.</summary>
/// <param name="MaxConcurrency">The limit in force after the call.</param>
/// <param name="Source">Where that limit came from.</param>
/// <param name="Warning">Set when the caller asked for a different limit than the one in force; the existing one was kept.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.LimiterConfiguration")]
public sealed record LimiterConfiguration(
    [property: Id(0)] int MaxConcurrency,
    [property: Id(1)] LimitSource Source,
    [property: Id(2)] string? Warning);

/// <summary>Permits held by one holder.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.HolderStatus")]
public sealed record HolderStatus(
    [property: Id(0)] string Holder,
    [property: Id(1)] int Permits,
    [property: Id(2)] int Leases,
    [property: Id(3)] TimeSpan OldestLeaseAge);

/// <summary>A waiter in a limiter's queue.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.WaiterStatus")]
public sealed record WaiterStatus(
    [property: Id(0)] string Holder,
    [property: Id(1)] int Position,
    [property: Id(2)] int Weight);

/// <summary>A snapshot of a global limiter. Holds no secret.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.LimiterStatus")]
public sealed record LimiterStatus
{
    /// <summary>The limiter's name.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>Permits that may be held at once.</summary>
    [Id(1)] public required int MaxConcurrency { get; init; }

    /// <summary>Where <see cref="MaxConcurrency"/> came from.</summary>
    [Id(2)] public required LimitSource LimitSource { get; init; }

    /// <summary>Permits held now.</summary>
    [Id(3)] public required int InUse { get; init; }

    /// <summary>Permits free now (never negative, even after a limit was lowered below in-use).</summary>
    [Id(4)] public required int Available { get; init; }

    /// <summary>Callers queued for permits.</summary>
    [Id(5)] public required int Waiting { get; init; }

    /// <summary>The most permits ever held at once by this activation.</summary>
    [Id(6)] public required int HighWaterMark { get; init; }

    /// <summary>Leases granted.</summary>
    [Id(7)] public required long Grants { get; init; }

    /// <summary>Acquires that gave up waiting.</summary>
    [Id(8)] public required long Timeouts { get; init; }

    /// <summary>Leases that expired without renewal or release.</summary>
    [Id(9)] public required long Expirations { get; init; }

    /// <summary>Permits held, by holder.</summary>
    [Id(10)] public required IReadOnlyList<HolderStatus> Holders { get; init; }

    /// <summary>Queued callers in grant order.</summary>
    [Id(11)] public required IReadOnlyList<WaiterStatus> Waiters { get; init; }

    /// <summary>The account's requests per minute, when a rate budget is set.</summary>
    [Id(12)] public int? RequestsPerMinute { get; init; }

    /// <summary>Share of <see cref="RequestsPerMinute"/> used.</summary>
    [Id(13)] public double RateSafetyFactor { get; init; }

    /// <summary>Grants allowed in any 60-second window (requests per minute × safety factor); null without a rate budget.</summary>
    [Id(14)] public int? RateBudget { get; init; }

    /// <summary>Grants still allowed in the current 60-second window; null without a rate budget.</summary>
    [Id(15)] public int? RateAvailable { get; init; }

    /// <summary>The activation's claim number; it grows each time the limiter is activated anew.</summary>
    [Id(18)] public long Epoch { get; init; }

    /// <summary>Leases this activation took over from its predecessor's persisted lease table.</summary>
    [Id(20)] public long Restored { get; init; }
}
