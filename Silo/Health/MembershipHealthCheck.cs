using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Floodgate.Silo.Health;

/// <summary>
/// Healthy when the membership table can be read now and lists this silo as active. Reads the table itself (Redis in
/// Redis mode), not the silo's cached view, so a table nobody can reach makes the silo not ready.
/// </summary>
internal sealed class MembershipHealthCheck(IMembershipTable table, ILocalSiloDetails silo) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        MembershipTableData data;
        try
        {
            data = await table.ReadAllAsync(cancellationToken).WaitAsync(HealthConstants.CheckTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception's type only: its message may name hosts and connection details.
            return HealthCheckResult.Unhealthy($"The membership table could not be read ({ex.GetType().Name}).");
        }

        var active = data.Members.Count(m => m.Item1.Status == SiloStatus.Active);
        var self = data.Members.FirstOrDefault(m => m.Item1.SiloAddress.Equals(silo.SiloAddress))?.Item1.Status ?? SiloStatus.None;
        var details = new Dictionary<string, object> { ["activeSilos"] = active, ["self"] = self.ToString() };
        return self == SiloStatus.Active
            ? HealthCheckResult.Healthy($"{active} active silo(s), this one among them", details)
            : HealthCheckResult.Unhealthy($"This silo is {self} in the membership table, not active.", data: details);
    }
}
