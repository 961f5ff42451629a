using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Floodgate.Silo.Health;

/// <summary>Paths, tags and timeouts of the health endpoints, in one place.</summary>
internal static class HealthConstants
{
    public const string Path = "/health";
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    public const string ReadyTag = "ready";

    /// <summary>Longest one check waits for its dependency; a probe's own timeout is usually a few seconds more.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);
}

/// <summary>
/// <c>GET /health</c> (every check), <c>/health/live</c> (no check: the process answers) and <c>/health/ready</c>
/// (cluster, membership table, Redis, start-up warm-up): 200 with a JSON report when healthy, 503 otherwise. No API key (probes), no secret.
/// </summary>
internal static class HealthEndpoints
{
    public static void MapFloodgateHealth(this WebApplication app)
    {
        app.MapHealthChecks(HealthConstants.Path, Options(_ => true));
        app.MapHealthChecks(HealthConstants.LivePath, Options(_ => false));
        app.MapHealthChecks(HealthConstants.ReadyPath, Options(check => check.Tags.Contains(HealthConstants.ReadyTag)));
    }

    private static HealthCheckOptions Options(Func<HealthCheckRegistration, bool> predicate) => new()
    {
        Predicate = predicate,
        ResponseWriter = WriteAsync,

        // Degraded (the start-up warm-up running) is not ready either: a probe sends no traffic until it is over.
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(http.Response.Body, new
        {
            status = Name(report.Status),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = Name(e.Value.Status), description = e.Value.Description, data = e.Value.Data }),
        });
    }

    private static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();
}
