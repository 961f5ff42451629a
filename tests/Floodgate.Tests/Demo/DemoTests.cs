using Floodgate.Silo.Demo;
using Spectre.Console;
using Spectre.Console.Testing;

namespace Floodgate.Tests.Demo;

/// <summary>The README's demo command, run in-process: an embedded silo, the simulator and seed 000's three batches.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task RunAsync_SeedScenario_HoldsAndUsesTheGlobalLimit()
    {
        var console = new TestConsole();

        var report = await DemoRunner.RunAsync(new DemoSettings { ShowProgress = false, LatencyMs = 100 }, console, CancellationToken.None);

        Assert.True(report.Passed, string.Join(" ", report.Failures));
        Assert.InRange(report.SimulatorMaxConcurrent, 9, 10);
        Assert.Equal(120, report.Batches.Sum(b => b.Progress.Succeeded));
        Assert.Contains("All invariants held.", console.Output);
    }
}
