using System.Text.Json.Serialization;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// The long-poll query of <c>GET /api/batches/{id}</c>: <c>afterVersion</c> (a progress version the caller has seen) and
/// <c>waitMs</c> (how long to wait for a newer one). Bad values are a 400 naming the parameter.
/// </summary>
internal readonly record struct ProgressWait(long AfterVersion, TimeSpan MaxWait)
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);

    // The batch caps a wait far below this; the cap only keeps a huge number from overflowing a TimeSpan.
    private const long MaxWaitMs = 3_600_000;

    /// <summary>Null when the query asks for no wait (no <c>afterVersion</c>).</summary>
    public static ProgressWait? Read(IQueryCollection query)
    {
        var reader = new ApiQuery(query);
        var afterVersion = reader.Int64("afterVersion");
        var waitMs = reader.Int64("waitMs", min: 0);
        if (query.ContainsKey("waitMs") && !query.ContainsKey("afterVersion"))
        {
            reader.AddError("Query 'waitMs' needs 'afterVersion' (the progress version to wait past).");
        }

        reader.ThrowIfInvalid();
        return afterVersion is { } version
            ? new ProgressWait(version, waitMs is { } ms ? TimeSpan.FromMilliseconds(Math.Min(ms, MaxWaitMs)) : DefaultWait)
            : null;
    }
}

/// <summary>Body of <c>POST /api/limiters/{name}/leases</c>; every field optional (the body too).</summary>
internal sealed record AcquireLeaseRequest
{
    /// <summary>Who holds the lease (fairness is per holder); default <see cref="ApiDefaults.LeaseHolder"/>.</summary>
    public string? Holder { get; init; }

    public int? Weight { get; init; }

    /// <summary>How long to queue for permits; default 0 (answer at once).</summary>
    public int? WaitMs { get; init; }

    /// <summary>Lease time-to-live; default the silo's <c>Limiters:DefaultLeaseTtl</c>.</summary>
    public int? TtlMs { get; init; }

    public AcquirePriority? Priority { get; init; }

    /// <summary>
    /// Makes the acquire idempotent and cancellable: repeating it returns the same lease (or joins the same wait), and
    /// <c>DELETE /api/limiters/{name}/requests/{requestId}</c> undoes it. Default: an id the API generates, so a caller that
    /// hangs up still leaves nothing behind.
    /// </summary>
    public string? RequestId { get; init; }

    /// <summary>
    /// The grain validates holder, weight, wait and TTL against the limiter's own limit and options; the request id is
    /// checked here (the grain takes any id).
    /// </summary>
    public AcquireRequest ToAcquireRequest()
    {
        if (RequestId is not null)
        {
            RequestIds.Require(RequestId);
        }

        return new(
            Holder ?? ApiDefaults.LeaseHolder,
            Weight ?? 1,
            TimeSpan.FromMilliseconds(WaitMs ?? 0),
            TtlMs is { } ttl ? TimeSpan.FromMilliseconds(ttl) : null,
            Priority ?? AcquirePriority.Normal,
            RequestId ?? AcquireRequest.NewRequestId());
    }
}

/// <summary>Body of <c>PUT /api/limiters/{name}/leases/{leaseId}</c>; optional.</summary>
internal sealed record RenewLeaseRequest
{
    /// <summary>When given, the lease is renewed only if this holder holds it.</summary>
    public string? Holder { get; init; }

    public RenewRequest ToRenewRequest(string leaseId) => new(leaseId, Holder);
}

/// <summary>Answer of a granted or renewed lease: <c>{"lease": {…}}</c>.</summary>
internal sealed record LeaseResponse(Lease Lease);

/// <summary>Answer of <c>DELETE …/requests/{requestId}</c>; <c>detail</c> says why nothing was undone.</summary>
internal sealed record CancelAcquireResponse(
    bool Cancelled,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null);

/// <summary>Answer of a release; <c>detail</c> says why nothing was released.</summary>
internal sealed record ReleaseResponse(
    bool Released,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null);
