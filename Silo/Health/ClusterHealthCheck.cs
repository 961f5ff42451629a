using Floodgate.Grains.Processors;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Floodgate.Silo.Health;

/// <summary>Healthy when the cluster answers a management call: this silo is up and sees its peers.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains, ProcessorRegistry processors) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(HealthConstants.CheckTimeout, cancellationToken);
            return HealthCheckResult.Healthy(
                $"{hosts.Count} active silo(s)",
                new Dictionary<string, object> { ["activeSilos"] = hosts.Count, ["processors"] = processors.Names });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The cluster did not answer.", ex);
        }
    }
}
