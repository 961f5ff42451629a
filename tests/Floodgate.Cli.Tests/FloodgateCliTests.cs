using System.CommandLine;
using Floodgate.Cli.Commands;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Tests.Fakes;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Floodgate.Cli.Tests;

/// <summary>What every command shares: global options, connection failures and the exit codes errors map to.</summary>
public sealed class FloodgateCliTests
{
    [Fact]
    public async Task Run_GlobalOptions_ReachTheProvider()
    {
        var clients = new RecordingClientProvider();

        await CliRun.RunAsync(clients, "status", "b-1", "--gateway", "10.0.0.1:30000", "--gateway", "10.0.0.2:30000,10.0.0.3:30001", "--cluster-id", "c1", "--service-id", "s1");

        var connection = Assert.Single(clients.Connects).Gateway!;
        Assert.Equal(["10.0.0.1:30000", "10.0.0.2:30000", "10.0.0.3:30001"], connection.Gateways);
        Assert.Equal("c1", connection.ClusterId);
        Assert.Equal("s1", connection.ServiceId);
    }

    [Fact]
    public void GlobalOptions_GatewayVariableSet_IsTheDefault()
    {
        var globals = new GlobalOptions(" 10.1.1.1:30000 , 10.1.1.2:30000 ");
        var root = new RootCommand();
        globals.AddTo(root);

        var connection = globals.Read(root.Parse([])).Gateway!;

        Assert.Equal(["10.1.1.1:30000", "10.1.1.2:30000"], connection.Gateways);
        Assert.Equal("floodgate", connection.ClusterId);
    }

    [Fact]
    public void GlobalOptions_NoGatewayVariable_DefaultsToTheLocalSilo()
    {
        var globals = new GlobalOptions(null);
        var root = new RootCommand();
        globals.AddTo(root);

        Assert.Equal(["127.0.0.1:30000"], globals.Read(root.Parse([])).Gateway!.Gateways);
    }

    [Fact]
    public async Task Run_ProviderCannotConnect_Exits3NamingTheGateways()
    {
        var clients = new RecordingClientProvider(failure: new ClusterUnreachableException("Unable to connect to any of the 2 available gateways."));

        var run = await CliRun.RunAsync(clients, "status", "b-1", "--gateway", "10.0.0.1:30000,10.0.0.2:30000");

        Assert.Equal(3, run.ExitCode);
        Assert.Equal(
            ["error: could not reach Floodgate at 10.0.0.1:30000, 10.0.0.2:30000: Unable to connect to any of the 2 available gateways."],
            run.StderrLines);
        Assert.Equal("", run.Stdout);
    }

    public static TheoryData<Exception> LostConnections() => new()
    {
        new SiloUnavailableException("silo gone"),
        new ConnectionFailedException("connection reset"),
        new TimeoutException("response did not arrive on time"),
        new AggregateException(new SiloUnavailableException("wrapped")),
    };

    [Theory]
    [MemberData(nameof(LostConnections))]
    public async Task Run_ConnectionLostMidCommand_Exits3WithOneLine(Exception failure)
    {
        var client = new FakeFloodgateClient();
        client.AddBatch("b-1", Snapshots.Progress("b-1", 1)).Failure = failure;

        var run = await CliRun.RunAsync(client, "status", "b-1");

        Assert.Equal(3, run.ExitCode);
        Assert.StartsWith("error: could not reach Floodgate at 127.0.0.1:30000: ", Assert.Single(run.StderrLines));
    }

    [Fact]
    public async Task Run_UnexpectedException_Exits1WithOneLineAndNoStackTrace()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch("b-1", Snapshots.Progress("b-1", 1)).Failure = new InvalidOperationException("boom\n   at Somewhere()");

        var run = await CliRun.RunAsync(client, "status", "b-1");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(["error: boom (InvalidOperationException)"], run.StderrLines);
    }

    [Fact]
    public async Task Run_Interrupted_Exits130()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch("b-1", Snapshots.Progress("b-1", 1));
        using var interrupted = new CancellationTokenSource();
        await interrupted.CancelAsync();

        var exitCode = await FloodgateCli.RunAsync(["watch", "b-1"], new FixedClientProvider(client), new StringWriter(), new StringWriter(), interrupted.Token);

        Assert.Equal(130, exitCode);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("status", "b-1", "--no-such-option")]
    public async Task Run_UnknownCommandOrOption_Exits2WithOneLine(params string[] args)
    {
        var clients = new RecordingClientProvider();

        var run = await CliRun.RunAsync(clients, args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.StderrLines));
        Assert.Empty(clients.Connects);
    }

    [Fact]
    public async Task Run_Help_PrintsUsageAndExits0()
    {
        var run = await CliRun.RunAsync(new RecordingClientProvider(), "submit", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--local-limit", run.Stdout);
        Assert.Contains("first and only line on stdout", run.Stdout);
    }
}

/// <summary>HTTP mode chosen from the environment, as <c>FLOODGATE_URL</c> and <c>FLOODGATE_API_KEY</c> set it.</summary>
public sealed class GlobalOptionsHttpModeTests
{
    [Fact]
    public void Read_UrlAndKeyVariablesSet_SelectHttpModeWithTheKey()
    {
        var connection = Read(new GlobalOptions(null, "https://floodgate.example:5080/", "key-from-environment-0001"));

        Assert.Null(connection.Gateway);
        Assert.Equal(new Uri("https://floodgate.example:5080/"), connection.Http!.BaseAddress);
        Assert.Equal("key-from-environment-0001", connection.Http.ApiKey);
    }

    [Fact]
    public void Read_UrlVariableButExplicitGateway_UsesTheGateway()
    {
        var connection = Read(new GlobalOptions(null, "https://floodgate.example/", null), "--gateway", "10.0.0.1:30000");

        Assert.Equal(["10.0.0.1:30000"], connection.Gateway!.Gateways);
    }

    [Fact]
    public void Read_ExplicitKeyOverridesVariable()
    {
        var connection = Read(new GlobalOptions(null, null, "key-from-environment-0001"), "--url", "http://127.0.0.1:5080", "--api-key", "key-from-command-line-01");

        Assert.Equal("key-from-command-line-01", connection.Http!.ApiKey);
    }

    [Fact]
    public void Target_HttpMode_NamesUrlNeverKey()
    {
        var globals = new GlobalOptions(null, "http://127.0.0.1:5080/", "secret-key-0123456789");
        var root = new RootCommand();
        globals.AddTo(root);

        var target = globals.Target(root.Parse([]));

        Assert.Equal("http://127.0.0.1:5080/", target);
    }

    private static CliConnection Read(GlobalOptions globals, params string[] args)
    {
        var root = new RootCommand();
        globals.AddTo(root);
        return globals.Read(root.Parse(args));
    }
}
