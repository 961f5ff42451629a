namespace Floodgate.Limiting;

/// <summary>A request for permits from a global limiter.</summary>
/// <param name="Holder">Who will hold the lease (a batch id or a client id); grants are fair across holders.</param>
/// <param name="Weight">How many permits the lease takes (1 for one upstream call).</param>
/// <param name="WaitTimeout">How long to wait in the queue before giving up; <see cref="TimeSpan.Zero"/> means do not wait.</param>
/// <param name="LeaseTtl">How long the lease lives unless renewed; null uses the limiter's default.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.AcquireRequest")]
public sealed record AcquireRequest(
    [property: Id(0)] string Holder,
    [property: Id(1)] int Weight,
    [property: Id(2)] TimeSpan WaitTimeout,
    [property: Id(3)] TimeSpan? LeaseTtl = null);

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

    /// <summary>The limiter is recovering from an unclean loss and grants nothing new for one lease TTL.</summary>
    Recovering = 2,
}

/// <summary>The answer to an acquire: a lease, or a failure with a hint of when to try again.</summary>
[GenerateSerializer, Immutable, Alias("Floodgate.AcquireResult")]
public sealed record AcquireResult(
    [property: Id(0)] Lease? Lease,
    [property: Id(1)] AcquireFailure Failure,
    [property: Id(2)] string? Reason,
    [property: Id(3)] TimeSpan? RetryAfter)
{
    /// <summary>True when a lease was granted.</summary>
    public bool Granted => Lease is not null;

    /// <summary>A successful result.</summary>
    public static AcquireResult Success(Lease lease) => new(lease, AcquireFailure.None, null, null);

    /// <summary>A failed result.</summary>
    public static AcquireResult Fail(AcquireFailure failure, string reason, TimeSpan? retryAfter) =>
        new(null, failure, reason, retryAfter);
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
[GenerateSerializer, Immutable, Alias("Floodgate.LimiterLimits")]
public sealed record LimiterLimits([property: Id(0)] int MaxConcurrency);

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
}
