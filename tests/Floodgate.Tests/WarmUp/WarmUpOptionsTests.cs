using Floodgate.ProcessCluster.Processes;
using Floodgate.Silo.Hosting;
using Floodgate.Silo.Hosting.WarmUp;

namespace Floodgate.Tests.WarmUp;

/// <summary><c>Floodgate:Silo:WarmUp:*</c> is checked at start like every other setting: one line, exit code 2, nothing started.</summary>
public sealed class WarmUpOptionsTests
{
    [Fact]
    public void Validate_Defaults_IsOnWithoutProblems()
    {
        var options = new WarmUpOptions();

        Assert.True(options.Enabled);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("--Floodgate:Silo:WarmUp:Items=0", "Floodgate:Silo:WarmUp:Items must be between 1 and 100000, got 0")]
    [InlineData("--Floodgate:Silo:WarmUp:Items=100001", "Floodgate:Silo:WarmUp:Items must be between 1 and 100000, got 100001")]
    [InlineData("--Floodgate:Silo:WarmUp:MaxRounds=0", "Floodgate:Silo:WarmUp:MaxRounds must be between 1 and 100, got 0")]
    [InlineData("--Floodgate:Silo:WarmUp:Timeout=00:00:00.500", "Floodgate:Silo:WarmUp:Timeout must be between 1 second and 10 minutes")]
    [InlineData("--Floodgate:Silo:WarmUp:Timeout=01:00:00", "Floodgate:Silo:WarmUp:Timeout must be between 1 second and 10 minutes")]
    [InlineData("--Floodgate:Silo:WarmUp:Enabled=maybe", "Floodgate:Silo:WarmUp:Enabled")]
    [InlineData("--Floodgate:Silo:WarmUp:Items=many", "Floodgate:Silo:WarmUp:Items")]
    [InlineData("--Floodgate:Silo:WarmUp:Itemz=5", "unknown configuration key 'Floodgate:Silo:WarmUp:Itemz' (known under Floodgate:Silo:WarmUp: Enabled, Items, MaxRounds, Timeout)")]
    [InlineData("--Floodgate:Silo:WarmUp=false", "'Floodgate:Silo:WarmUp' is a section, not a single value")]
    public async Task Run_BadWarmUpSetting_ExitsTwoWithOneLineNamingTheKey(string setting, string expected)
    {
        var error = new StringWriter();
        var output = new StringWriter();

        var exit = await SiloCommand.RunAsync(Args(setting), output, error);

        Assert.Equal(SiloCommand.ConfigurationError, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", error.ToString() + output);
        Assert.DoesNotContain("listening:", output.ToString());
    }

    private static string[] Args(string setting) =>
    [
        "--Urls=http://127.0.0.1:0",
        $"--Floodgate:Silo:SiloPort={FreePort.Next()}",
        $"--Floodgate:Silo:GatewayPort={FreePort.Next()}",
        "--Floodgate:Silo:Dashboard=false",
        setting,
    ];
}
