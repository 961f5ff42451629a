using Floodgate.ProcessCluster.Simulator;

namespace Floodgate.ProcessCluster.Cluster;

/// <summary>What <see cref="FloodgateProcessCluster.StartAsync"/> starts.</summary>
public sealed class ProcessClusterOptions
{
    /// <summary>Folder for every process's log (created); one folder per run.</summary>
    public required string LogDirectory { get; init; }

    /// <summary>Silo processes to start.</summary>
    public int Silos { get; init; } = 3;

    /// <summary>The simulator's options (unlimited concurrency by default, so over-admission is counted, not refused).</summary>
    public SimulatorSettings Simulator { get; init; } = new();

    /// <summary>Extra silo configuration (<c>Floodgate:Items:MaxRetryAttempts</c> …), on top of the harness's own.</summary>
    public IReadOnlyDictionary<string, string> SiloSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Environment variables of every silo process (runtime knobs such as <c>DOTNET_gcServer</c>).</summary>
    public IReadOnlyDictionary<string, string> SiloEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>How long one silo may take to become healthy.</summary>
    public TimeSpan SiloStartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
