using Floodgate.Client;
using Floodgate.Silo.Security;

namespace Floodgate.Silo.Api;

/// <summary>The names a list endpoint answers: <c>{"names": [...]}</c>, in ordinal order.</summary>
/// <param name="Names">The names the cluster's catalog holds (bounded; the least recently activated are dropped first).</param>
internal sealed record NameListResponse(IReadOnlyList<string> Names);

/// <summary><c>GET /api/limiters</c> and <c>GET /api/breakers</c>: which limiters and breakers exist, for the console.</summary>
internal static class CatalogEndpoints
{
    public static RouteGroupBuilder MapCatalogEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/limiters", ListLimitersAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("The limiters the cluster knows (each registers when it activates), in ordinal order")
            .Produces<NameListResponse>();
        api.MapGet("/breakers", ListBreakersAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("The shared circuit breakers the cluster knows, in ordinal order")
            .Produces<NameListResponse>();
        return api;
    }

    private static async Task<IResult> ListLimitersAsync(IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(new NameListResponse(await floodgate.ListLimitersAsync(cancellationToken)));

    private static async Task<IResult> ListBreakersAsync(IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(new NameListResponse(await floodgate.ListBreakersAsync(cancellationToken)));
}
