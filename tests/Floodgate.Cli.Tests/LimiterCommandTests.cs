using System.Text.Json;
using Floodgate.Cli.Tests.Fakes;
using Floodgate.Limiting;

namespace Floodgate.Cli.Tests;

public sealed class LimiterCommandTests
{
    private const string Name = "openai:acct-1";

    [Fact]
    public async Task LimiterShow_Text_RendersCountersHoldersAndWaiters()
    {
        var client = CreateSut(Status());

        var run = await CliRun.RunAsync(client, "limiter", "show", Name);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"limiter {Name}", run.Stdout);
        Assert.Contains(run.StdoutLines, line => line.Contains("limit") && line.Contains("10"));
        Assert.Contains(run.StdoutLines, line => line.Contains("source") && line.Contains("explicit"));
        Assert.Contains(run.StdoutLines, line => line.Contains("high-water") && line.Contains("9"));
        Assert.Contains(run.StdoutLines, line => line.Contains("expirations") && line.Contains("2"));
        Assert.Contains(run.StdoutLines, line => line.Contains("b-1") && line.Contains("6") && line.Contains("12s"));
        Assert.Contains(run.StdoutLines, line => line.Contains("client@host:42") && line.Contains("3"));
        Assert.Contains("waiters", run.Stdout);
        Assert.DoesNotContain("\u001b[", run.Stdout);
    }

    [Fact]
    public async Task LimiterShow_Idle_SaysThereAreNoHoldersOrWaiters()
    {
        var client = CreateSut(Status() with { Holders = [], Waiters = [], InUse = 0, Available = 10, Waiting = 0 });

        var run = await CliRun.RunAsync(client, "limiter", "show", Name);

        Assert.Contains("no holders", run.StdoutLines);
        Assert.Contains("no waiters", run.StdoutLines);
    }

    [Fact]
    public async Task LimiterShow_Json_PrintsTheRecordCamelCaseWithEnumsAsStrings()
    {
        var client = CreateSut(Status());

        var run = await CliRun.RunAsync(client, "limiter", "show", Name, "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(Name, root.GetProperty("name").GetString());
        Assert.Equal(10, root.GetProperty("maxConcurrency").GetInt32());
        Assert.Equal("explicit", root.GetProperty("limitSource").GetString());
        Assert.Equal("b-1", root.GetProperty("holders")[0].GetProperty("holder").GetString());
        Assert.Equal(1, root.GetProperty("waiters")[0].GetProperty("position").GetInt32());
    }

    [Fact]
    public async Task LimiterSet_NewLimit_GoesThroughTheSdkAndPrintsTheStatus()
    {
        var client = CreateSut(Status());

        var run = await CliRun.RunAsync(client, "limiter", "set", Name, "--max-concurrency", "25", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([(Name, new LimiterLimits(25))], client.LimitChanges);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(25, json.RootElement.GetProperty("maxConcurrency").GetInt32());
        Assert.Equal("admin", json.RootElement.GetProperty("limitSource").GetString());
    }

    [Fact]
    public async Task LimiterSet_WithRate_PassesRateAndFactorToTheSdk()
    {
        var client = CreateSut(Status());

        var run = await CliRun.RunAsync(client, "limiter", "set", Name, "--max-concurrency", "10", "--requests-per-minute", "600", "--rate-safety-factor", "0.8");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([(Name, new LimiterLimits(10, 600, 0.8))], client.LimitChanges);
    }

    [Fact]
    public async Task LimiterShow_NameStartingWithAt_IsANameNotAResponseFile()
    {
        var client = CreateSut(Status() with { Name = "@acct" });

        var run = await CliRun.RunAsync(client, "limiter", "show", "@acct", "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("@acct", json.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task LimiterShow_UnknownLimiter_Exits4()
    {
        var run = await CliRun.RunAsync(new FakeFloodgateClient(), "limiter", "show", "nope");

        Assert.Equal(4, run.ExitCode);
        Assert.Equal(["error: limiter 'nope' was not found."], run.StderrLines);
    }

    [Theory]
    [InlineData("Limiter name 'a/b' may contain only", "limiter", "show", "a/b")]
    [InlineData("Limiter name 'a b' may contain only", "limiter", "set", "a b", "--max-concurrency", "3")]
    [InlineData("Limiter name 'floodgate-warm-up.l' is not allowed: names starting with 'floodgate-warm-up.' are reserved for the silo's start-up warm-up", "limiter", "show", "floodgate-warm-up.l")]
    [InlineData("Limiter name 'floodgate-warm-up.l' is not allowed: names starting with 'floodgate-warm-up.' are reserved", "limiter", "set", "floodgate-warm-up.l", "--max-concurrency", "3")]
    [InlineData("Option '--max-concurrency' is required", "limiter", "set", Name)]
    [InlineData("Required command was not provided", "limiter")]
    [InlineData("Max concurrency must be between 1", "limiter", "set", Name, "--max-concurrency", "0")]
    [InlineData("Requests per minute must be between 1", "limiter", "set", Name, "--max-concurrency", "3", "--requests-per-minute", "0")]
    [InlineData("Rate safety factor must be above 0", "limiter", "set", Name, "--max-concurrency", "3", "--requests-per-minute", "60", "--rate-safety-factor", "2")]
    public async Task Limiter_BadInput_Exits2WithoutConnecting(string expected, params string[] args)
    {
        var clients = new RecordingClientProvider();

        var run = await CliRun.RunAsync(clients, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, Assert.Single(run.StderrLines));
        Assert.Empty(clients.Connects);
    }

    private static FakeFloodgateClient CreateSut(LimiterStatus status)
    {
        var client = new FakeFloodgateClient();
        client.Limiters[status.Name] = status;
        return client;
    }

    private static LimiterStatus Status() => new()
    {
        Name = Name,
        MaxConcurrency = 10,
        LimitSource = LimitSource.Explicit,
        InUse = 9,
        Available = 1,
        Waiting = 2,
        HighWaterMark = 9,
        Grants = 1234,
        Timeouts = 5,
        Expirations = 2,
        Holders = [new HolderStatus("b-1", 6, 6, TimeSpan.FromSeconds(12)), new HolderStatus("client@host:42", 3, 1, TimeSpan.FromMilliseconds(300))],
        Waiters = [new WaiterStatus("b-2", 1, 1), new WaiterStatus("client@host:42", 2, 2)],
    };
}
