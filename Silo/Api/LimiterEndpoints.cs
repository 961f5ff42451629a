using Floodgate.Client;
using Floodgate.Client.Http;
using Floodgate.Limiting;
using Floodgate.Silo.Security;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// <c>/api/limiters/{name}</c>: status, live limits (admin), and leases for work done outside Floodgate
/// (acquire, renew, release, cancel an acquire by its request id), all through <see cref="IFloodgateClient"/>.
/// </summary>
internal static class LimiterEndpoints
{
    public static RouteGroupBuilder MapLimiterEndpoints(this RouteGroupBuilder api)
    {
        var limiter = api.MapGroup("/limiters/{name}");
        limiter.MapGet("", GetStatusAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("A limiter's status").Produces<LimiterStatus>().ProducesProblems(400);
        limiter.MapPut("", SetLimitsAsync).RequireApiKey(ApiRole.Admin)
            .WithSummary("Change a limiter's limits live").DescribesBody<SetLimitsRequest>()
            .Produces<LimiterStatus>().ProducesProblems(400, 403, 415);
        limiter.MapPost("/leases", AcquireAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("Acquire a lease (permits held until released or expired)").DescribesBody<AcquireLeaseRequest>()
            .Produces<LeaseResponse>(StatusCodes.Status201Created).ProducesProblems(400, 409, 415, 429);
        limiter.MapPut("/leases/{leaseId}", RenewAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("Renew a lease by its TTL").DescribesBody<RenewLeaseRequest>()
            .Produces<LeaseResponse>().ProducesProblems(400, 404, 415);
        limiter.MapDelete("/leases/{leaseId}", ReleaseAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("Release a lease (idempotent)").Produces<ReleaseResponse>().ProducesProblems(400);
        limiter.MapDelete("/requests/{requestId}", CancelAcquireAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("Undo an acquire by its request id").Produces<CancelAcquireResponse>().ProducesProblems(400);
        return api;
    }

    // Limiter names are validated (letters, digits and - _ . : @, legal in a path segment); lease ids are the limiter's own.
    public static string LeaseLocation(string limiter, string leaseId) =>
        $"/api/limiters/{limiter}/leases/{Uri.EscapeDataString(leaseId)}";

    private static async Task<IResult> GetStatusAsync(string name, IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(await floodgate.GetLimiterStatusAsync(name, cancellationToken));

    private static async Task<IResult> SetLimitsAsync(string name, HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<SetLimitsRequest>(request, required: true, cancellationToken);
        return ApiJson.Ok(await floodgate.SetLimitsAsync(name, body!.ToLimits(), cancellationToken));
    }

    private static async Task<IResult> AcquireAsync(string name, HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<AcquireLeaseRequest>(request, required: false, cancellationToken) ?? new AcquireLeaseRequest();

        // The request's token reaches the limiter: a caller that hangs up while queued leaves no waiter behind, and a
        // grant on its way back to a caller that hung up is undone by the request id (the SDK does both).
        var result = await floodgate.TryAcquireLeaseAsync(name, body.ToAcquireRequest(), cancellationToken);

        if (result.Lease is not { } lease)
        {
            return ApiProblems.NoPermit(request.HttpContext.Response, name, result);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // Granted as the caller hung up: nobody would renew or release it, so give the permits back now.
            await floodgate.ReleaseLeaseAsync(name, lease.LeaseId, CancellationToken.None);
            return Results.Empty;
        }

        return ApiJson.Created(request.HttpContext.Response, LeaseLocation(name, lease.LeaseId), new LeaseResponse(lease));
    }

    private static async Task<IResult> RenewAsync(string name, string leaseId, HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<RenewLeaseRequest>(request, required: false, cancellationToken) ?? new RenewLeaseRequest();
        var lease = await floodgate.RenewLeaseAsync(name, body.ToRenewRequest(leaseId), cancellationToken);
        return lease is null
            ? ApiProblems.NotFound($"Lease '{leaseId}' of limiter '{name}' is unknown or expired; acquire a new one.")
            : ApiJson.Ok(new LeaseResponse(lease));
    }

    private static async Task<IResult> CancelAcquireAsync(string name, string requestId, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var cancelled = await floodgate.CancelAcquireAsync(name, requestId, cancellationToken);
        return ApiJson.Ok(cancelled
            ? new CancelAcquireResponse(true)
            : new CancelAcquireResponse(false, $"Request '{requestId}' of limiter '{name}' held no lease and was not waiting; a later acquire with it will be refused."));
    }

    private static async Task<IResult> ReleaseAsync(string name, string leaseId, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var released = await floodgate.ReleaseLeaseAsync(name, leaseId, cancellationToken);
        return ApiJson.Ok(released
            ? new ReleaseResponse(true)
            : new ReleaseResponse(false, $"Lease '{leaseId}' of limiter '{name}' was unknown or already expired; nothing to release."));
    }
}
