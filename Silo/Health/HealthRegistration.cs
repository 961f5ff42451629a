using Floodgate.Silo.Hosting;

namespace Floodgate.Silo.Health;

/// <summary>Registration of the checks and their tags.</summary>
internal static class HealthRegistration
{
    /// <summary>
    /// <c>cluster</c> and <c>membership</c> always, <c>redis</c> in Redis mode; every one is a readiness check. Liveness has
    /// no check: a process that answers HTTP is alive, and a restart would not bring Redis back.
    /// </summary>
    public static IServiceCollection AddFloodgateHealthChecks(this IServiceCollection services, SiloOptions silo)
    {
        var checks = services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster", tags: [HealthConstants.ReadyTag])
            .AddCheck<MembershipHealthCheck>("membership", tags: [HealthConstants.ReadyTag]);
        if (silo.Clustering == ClusteringMode.Redis)
        {
            services.AddSingleton(_ => new RedisHealthCheck(silo.RedisConnectionString!));
            checks.AddCheck<RedisHealthCheck>("redis", tags: [HealthConstants.ReadyTag]);
        }

        return services;
    }
}
