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
        services.AddProblemDetails();
        return services;
    }

    /// <summary>Maps batches, limiters, leases and breakers under <c>/api</c>; every error is problem+json.</summary>
    public static IEndpointRouteBuilder MapFloodgateApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter<ApiProblemFilter>();
        api.MapBatchEndpoints();
        api.MapLimiterEndpoints();
        api.MapBreakerEndpoints();
        return app;
    }
}
