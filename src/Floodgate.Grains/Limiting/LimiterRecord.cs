using Floodgate.Limiting;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// What a limiter keeps in storage: its limits, its claim, its lease table and its rate window. Every grant is in a
/// successful write before it is returned; releases and renewals are written lazily. Never a secret.
/// </summary>
[GenerateSerializer, Alias("Floodgate.LimiterRecord")]
public sealed class LimiterRecord
{
    /// <summary>A limit set by a caller or an administrator; null while configuration/default applies.</summary>
    [Id(0)] public int? MaxConcurrency { get; set; }

    [Id(1)] public LimitSource Source { get; set; }

    /// <summary>A requests-per-minute budget set by an administrator; null while configuration applies.</summary>
    [Id(2)] public int? RequestsPerMinute { get; set; }

    [Id(3)] public double? RateSafetyFactor { get; set; }

    /// <summary>
    /// True from an activation's claim until its hand-over write on deactivation. False means the lease table was
    /// written last by a clean hand-over, so its expiries are exact; true means the owner was lost and renewals may be
    /// missing, so a successor counts every lease for one more TTL.
    /// </summary>
    [Id(4)] public bool Active { get; set; }

    /// <summary>Grows with each activation; the ETag-checked write of it is the activation's claim.</summary>
    [Id(5)] public long Epoch { get; set; }

    /// <summary>
    /// Every lease that may be held, as records written before the lease table was stored encoded. Read from such records;
    /// written only by the hand-over write (empty otherwise), for a successor of an older build, which reads this list and
    /// not <see cref="LeaseTable"/>.
    /// </summary>
    [Id(7)] public List<PersistedLease> Leases { get; set; } = [];

    /// <summary>Upstream calls granted in the last minute, per second (the requests-per-minute window).</summary>
    [Id(8)] public List<RateBucket> RateHistory { get; set; } = [];

    /// <summary>Model tokens charged in the last minute, per second (the tokens-per-minute window).</summary>
    [Id(9)] public List<RateBucket> TokenHistory { get; set; } = [];

    /// <summary>A tokens-per-minute budget set by an administrator; null while configuration applies.</summary>
    [Id(10)] public int? TokensPerMinute { get; set; }

    /// <summary>The reduced concurrency while the upstream pushes back; null when the configured limit applies.</summary>
    [Id(11)] public int? BackoffLimit { get; set; }

    /// <summary>No grant before this moment: the upstream asked everyone to wait.</summary>
    [Id(12)] public DateTimeOffset? PausedUntil { get; set; }

    /// <summary>Every lease that may be held, encoded by <see cref="LeaseTableCodec"/>; null in records written before it.</summary>
    [Id(13)] public byte[]? LeaseTable { get; set; }

    /// <summary>Every lease that may be held: <see cref="LeaseTable"/>, or <see cref="Leases"/> in a record written before it.</summary>
    public List<PersistedLease> ReadLeases() => LeaseTable is { } table ? LeaseTableCodec.Decode(table) : Leases;
}

/// <summary>
/// One lease as persisted in a limiter's record. No instance appears twice in a record, so the serializer need not track
/// references to it (the bytes are the same; the lease table is written on every group commit).
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("Floodgate.PersistedLease")]
public sealed record PersistedLease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string Holder,
    [property: Id(2)] int Weight,
    [property: Id(3)] TimeSpan Ttl,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] DateTimeOffset GrantedAt,
    [property: Id(6)] string? RequestId);
