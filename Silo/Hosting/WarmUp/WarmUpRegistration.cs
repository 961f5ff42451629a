using Floodgate.Grains.WarmUp;
using Floodgate.Silo.Health;

namespace Floodgate.Silo.Hosting.WarmUp;

/// <summary>Registration of the start-up warm-up.</summary>
internal static class WarmUpRegistration
{
    /// <summary>
    /// Adds the warm-up (a hosted service) and its readiness check (<c>warm-up</c>). Call after <c>UseOrleans</c>: hosted
    /// services start in order, so the silo has joined its cluster before the warm-up begins.
    /// </summary>
    public static IServiceCollection AddFloodgateWarmUp(this IServiceCollection services, WarmUpOptions options)
    {
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        services.AddSingleton<WarmUpStatus>();
        services.AddSingleton<SiloWarmUp>();

        // The warm-up's pass to its own batch through the HTTP API (which refuses reserved names to everyone else); the
        // API asks for it whether the warm-up runs or not.
        services.AddSingleton<WarmUpPass>();
        services.AddTransient<WarmUpHttp>();
        services.AddSingleton<Func<WarmUpHttp>>(sp => () => sp.GetRequiredService<WarmUpHttp>());
        services.AddHostedService<WarmUpService>();
        services.AddHealthChecks().AddCheck<WarmUpHealthCheck>("warm-up", tags: [HealthConstants.ReadyTag]);
        return services;
    }
}
