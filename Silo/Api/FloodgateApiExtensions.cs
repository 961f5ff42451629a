using Floodgate.Silo.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Floodgate.Silo.Api;

/// <summary>Registers and maps the silo's HTTP API (<c>/api/…</c>).</summary>
internal static class FloodgateApiExtensions
{
    /// <summary>API keys (section <c>Floodgate:Api</c>, validated at start), their authentication and policies, and problem details.</summary>
    public static IServiceCollection AddFloodgateApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>());
        services.AddFloodgateSecurity();
        services.AddFloodgateOpenApi();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Maps batches, limiters, leases and breakers under <c>/api</c> (every error is problem+json) and the OpenAPI document.</summary>
    public static IEndpointRouteBuilder MapFloodgateApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(ApiOpenApi.DocumentPath);

        // Every endpoint can answer 500 and 503 (cluster unavailable), and 401 when client keys are configured.
        var api = app.MapGroup("/api").AddEndpointFilter<ApiProblemFilter>()
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status500InternalServerError, StatusCodes.Status503ServiceUnavailable);
        api.MapBatchEndpoints();
        api.MapLimiterEndpoints();
        api.MapBreakerEndpoints();
        api.MapCatalogEndpoints();
        return app;
    }
}
