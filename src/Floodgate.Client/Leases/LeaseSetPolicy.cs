using Floodgate.Limiting;

namespace Floodgate.Client.Leases;

/// <summary>
/// What differs between the callers of <see cref="LimiterLeaseSet"/>: how its limiter calls ride through cluster faults,
/// how much TTL its leases must have left when it is handed out, and the exceptions that say "not granted" and "lost".
/// The defaults are the SDK's (<see cref="LeaseUnavailableException"/>, one try per confirm); item grains pass their own
/// (their cluster pipeline on the grain's scheduler, their failure types, the attempt timeout as the TTL needed).
/// </summary>
internal sealed class LeaseSetPolicy
{
    /// <summary>The reference to a limiter by name (silos pass one that keeps references instead of making one per call).</summary>
    public Func<IGrainFactory, string, IGlobalLimiterGrain> Limiter { get; init; } =
        static (grains, name) => grains.GetGrain<IGlobalLimiterGrain>(name);

    /// <summary>One release call per lease: the default of <see cref="Release"/>.</summary>
    public static readonly Func<IGlobalLimiterGrain, string, Task> ReleaseEach = static (limiter, leaseId) => limiter.ReleaseAsync(leaseId);

    /// <summary>Sends the release of a lease (by id) to its limiter; silos pass one that groups their items' releases.</summary>
    public Func<IGlobalLimiterGrain, string, Task> Release { get; init; } = ReleaseEach;

    /// <summary>Acquires one lease through cluster faults by request id and undoes an abandoned acquire.</summary>
    public required FailoverAcquire Acquire { get; init; }

    /// <summary>Runs a confirm of a held lease (a limiter call), repeating it after cluster faults as the caller needs.</summary>
    public Func<Func<CancellationToken, Task<bool>>, CancellationToken, Task<bool>> ConfirmRetry { get; init; } =
        static (confirm, cancellationToken) => confirm(cancellationToken);

    /// <summary>
    /// The TTL every lease must have left when the set is handed out (the call it guards must fit in it). Earlier leases
    /// are always confirmed, which renews them; the lease granted last is confirmed too when it has less than this left.
    /// </summary>
    public TimeSpan RequiredTtl { get; init; } = TimeSpan.Zero;

    /// <summary>The exception for a limiter (by name) that granted nothing, with its answer.</summary>
    public Func<string, AcquireResult, Exception> NotGranted { get; init; } =
        static (limiter, result) => new LeaseUnavailableException(limiter, result.Reason ?? "No permit was granted.", result.RetryAfter);

    /// <summary>The exception for a lease (by limiter name) lost while a later limiter kept the caller waiting.</summary>
    public Func<string, Exception> Lost { get; init; } =
        static limiter => new LeaseUnavailableException(limiter, "The permit expired while a later limiter kept the call waiting.", TimeSpan.Zero);
}
