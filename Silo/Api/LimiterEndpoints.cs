using Floodgate.Client;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// <c>/api/limiters/{name}</c>: status, live limits (admin), and leases for work done outside Floodgate
/// (acquire, renew, release, cancel an acquire by its request id), through <see cref="IFloodgateClient"/> (the cancel
/// goes to the limiter grain itself until the SDK interface has it).
/// </summary>
internal static class LimiterEndpoints
{
    public static RouteGroupBuilder MapLimiterEndpoints(this RouteGroupBuilder api)
    {
        var limiter = api.MapGroup("/limiters/{name}");
        limiter.MapGet("", GetStatusAsync).RequireApiKey(ApiRole.Client);
        limiter.MapPut("", SetLimitsAsync).RequireApiKey(ApiRole.Admin);
        limiter.MapPost("/leases", AcquireAsync).RequireApiKey(ApiRole.Client);
        limiter.MapPut("/leases/{leaseId}", RenewAsync).RequireApiKey(ApiRole.Client);
        limiter.MapDelete("/leases/{leaseId}", ReleaseAsync).RequireApiKey(ApiRole.Client);
        limiter.MapDelete("/requests/{requestId}", CancelAcquireAsync).RequireApiKey(ApiRole.Client);
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

    private static async Task<IResult> AcquireAsync(string name, HttpRequest request, IFloodgateClient floodgate, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<AcquireLeaseRequest>(request, required: false, cancellationToken) ?? new AcquireLeaseRequest();
        var acquire = body.ToAcquireRequest();

        // The request's token reaches the limiter: a caller that hangs up while queued leaves no waiter behind.
        AcquireResult result;
        try
        {
            result = await floodgate.TryAcquireLeaseAsync(name, acquire, cancellationToken);
        }
        catch (Exception ex) when (ex is not FloodgateValidationException)
        {
            // Hung up or lost the answer: a grant may be on its way back to nobody. Undo it by request id (best effort).
            _ = CancelQuietlyAsync(grains.GetGrain<IGlobalLimiterGrain>(name), acquire.RequestId!);
            throw;
        }

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

    private static async Task<IResult> CancelAcquireAsync(string name, string requestId, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var limiter = grains.GetGrain<IGlobalLimiterGrain>(Names.Require("Limiter name", name));
        var cancelled = await limiter.CancelAcquireAsync(RequestIds.Require(requestId)).WaitAsync(cancellationToken);
        return ApiJson.Ok(cancelled
            ? new CancelAcquireResponse(true)
            : new CancelAcquireResponse(false, $"Request '{requestId}' of limiter '{name}' held no lease and was not waiting; a later acquire with it will be refused."));
    }

    private static async Task CancelQuietlyAsync(IGlobalLimiterGrain limiter, string requestId)
    {
        try
        {
            await limiter.CancelAcquireAsync(requestId);
        }
        catch (Exception)
        {
            // Best effort: a grant nobody received still expires with its TTL.
        }
    }

    private static async Task<IResult> ReleaseAsync(string name, string leaseId, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var released = await floodgate.ReleaseLeaseAsync(name, leaseId, cancellationToken);
        return ApiJson.Ok(released
            ? new ReleaseResponse(true)
            : new ReleaseResponse(false, $"Lease '{leaseId}' of limiter '{name}' was unknown or already expired; nothing to release."));
    }
}
