namespace Floodgate.Silo.Demo;

/// <summary>Seed 000's scenario: three batches with local limits 5, 8 and 6 under one global limit of 10.</summary>
public sealed record DemoSettings
{
    public int GlobalLimit { get; init; } = 10;

    public IReadOnlyList<int> LocalLimits { get; init; } = [5, 8, 6];

    public int ItemsPerBatch { get; init; } = 40;

    /// <summary>Simulated upstream latency per call.</summary>
    public int LatencyMs { get; init; } = 200;

    public string Limiter { get; init; } = "demo-account";

    /// <summary>Print live progress (off in tests).</summary>
    public bool ShowProgress { get; init; } = true;
}
