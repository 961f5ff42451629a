using Floodgate.Breakers;
using Floodgate.Client;
using Floodgate.Silo.Security;

namespace Floodgate.Silo.Api;

/// <summary><c>/api/breakers/{name}</c>: a shared circuit breaker's state.</summary>
internal static class BreakerEndpoints
{
    public static RouteGroupBuilder MapBreakerEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/breakers/{name}", GetStatusAsync).RequireApiKey(ApiRole.Client)
            .WithSummary("A shared circuit breaker's state").Produces<CircuitStatus>().ProducesProblems(400);
        return api;
    }

    private static async Task<IResult> GetStatusAsync(string name, IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(await floodgate.GetBreakerStatusAsync(name, cancellationToken));
}
