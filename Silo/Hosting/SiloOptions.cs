using Floodgate.Silo.Hosting.WarmUp;
using Floodgate.Validation;

namespace Floodgate.Silo.Hosting;

/// <summary>How the silo joins a cluster (section <c>Floodgate:Silo</c>).</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Floodgate:Silo";

    /// <summary><c>Localhost</c> (one machine, in-memory storage; the default) or <c>Redis</c> (several hosts).</summary>
    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;

    /// <summary>Redis connection string for clustering, grain storage and reminders when <see cref="Clustering"/> is Redis.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients (SDK, CLI) connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients reach this silo at (Redis mode); default: loopback.</summary>
    public string? AdvertisedIp { get; set; }

    /// <summary>Cluster id; silos and clients of one cluster share it.</summary>
    public string ClusterId { get; set; } = "floodgate";

    /// <summary>Service id; stable across deployments (storage is keyed by it).</summary>
    public string ServiceId { get; set; } = "floodgate";

    /// <summary>
    /// Redis mode: declare a dead silo dead within about 3 s (probe every second, two missed probes, one vote) instead
    /// of Orleans' defaults (12–14 s), so grains of a crashed silo come back quickly. Turn off on hosts with long GC pauses.
    /// </summary>
    public bool FastFailureDetection { get; set; } = true;

    /// <summary>Serve the Orleans dashboard at <c>/dashboard</c>.</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// On SIGTERM, how long the silo lets the item runs in progress on it finish before it deactivates them (they then
    /// run again elsewhere). Limiters hand over at once whatever this is. Zero: do not wait.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The start-up warm-up (<c>Floodgate:Silo:WarmUp:*</c>): on by default; see <see cref="WarmUpOptions"/>.</summary>
    public WarmUpOptions WarmUp { get; set; } = new();

    /// <summary>Longest <see cref="DrainTimeout"/> accepted.</summary>
    public static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromMinutes(10);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Clustering))
        {
            errors.Add($"{SectionName}:Clustering must be Localhost or Redis.");
        }

        if (Clustering == ClusteringMode.Redis && string.IsNullOrWhiteSpace(RedisConnectionString))
        {
            errors.Add($"{SectionName}:RedisConnectionString is required when Clustering is Redis.");
        }

        if (SiloPort is < 1 or > 65535)
        {
            errors.Add($"{SectionName}:SiloPort must be a TCP port (1-65535), got {SiloPort}.");
        }

        if (GatewayPort is < 1 or > 65535)
        {
            errors.Add($"{SectionName}:GatewayPort must be a TCP port (1-65535), got {GatewayPort}.");
        }

        if (SiloPort == GatewayPort)
        {
            errors.Add($"{SectionName}:SiloPort and GatewayPort must differ.");
        }

        if (AdvertisedIp is not null && !System.Net.IPAddress.TryParse(AdvertisedIp, out _))
        {
            errors.Add($"{SectionName}:AdvertisedIp must be an IP address, got '{AdvertisedIp}'.");
        }

        if (DrainTimeout < TimeSpan.Zero || DrainTimeout > MaxDrainTimeout)
        {
            errors.Add($"{SectionName}:DrainTimeout must be between 0 and {MaxDrainTimeout.TotalMinutes} minutes, got {DrainTimeout}.");
        }

        errors.AddRange(WarmUp.Validate());
        if (Names.Check("ClusterId", ClusterId) is { } clusterProblem)
        {
            errors.Add($"{SectionName}: {clusterProblem}");
        }

        if (Names.Check("ServiceId", ServiceId) is { } serviceProblem)
        {
            errors.Add($"{SectionName}: {serviceProblem}");
        }

        return errors;
    }
}

public enum ClusteringMode
{
    Localhost = 0,
    Redis = 1,
}
