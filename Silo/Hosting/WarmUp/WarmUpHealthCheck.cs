using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Floodgate.Silo.Hosting.WarmUp;

/// <summary>
/// A readiness check: degraded while the start-up warm-up runs (the silo serves, only not at full speed yet), healthy once
/// it is over, however it ended. The ready endpoints answer 503 for degraded (<c>HealthEndpoints</c>); degraded rather than
/// unhealthy because the health service logs an unhealthy check as an error on every probe, and warming up is no error.
/// </summary>
internal sealed class WarmUpHealthCheck(WarmUpStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(status.Outcome is { } outcome
            ? HealthCheckResult.Healthy(outcome)
            : HealthCheckResult.Degraded("Warming up: running the item path before taking work."));
}
