using System.Text.Json;
using Floodgate.Grains.Processors;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Floodgate.Silo.Health;

/// <summary>Healthy when the cluster answers a management call: this silo is up and sees its peers.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains, ProcessorRegistry processors) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
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

internal static class HealthEndpoints
{
    /// <summary><c>GET /health</c>: 200 with a JSON report when healthy, 503 otherwise. Holds no secret.</summary>
    public static void MapFloodgateHealth(this WebApplication app) =>
        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResponseWriter = async (http, report) =>
            {
                http.Response.ContentType = "application/json";
                await JsonSerializer.SerializeAsync(http.Response.Body, new
                {
                    status = report.Status.ToString().ToLowerInvariant(),
                    checks = report.Entries.ToDictionary(
                        e => e.Key,
                        e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description, data = e.Value.Data }),
                });
            },
        });
}
