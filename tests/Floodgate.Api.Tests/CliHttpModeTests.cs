using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Cli;
using Floodgate.Cli.Connection;

namespace Floodgate.Api.Tests;

/// <summary>
/// The <c>floodgate</c> CLI in HTTP mode (<c>--url</c>, <c>--api-key</c>) against a real silo with keys: every command
/// goes through the HTTP API (list and retry too), and refused keys end in one line and exit 5 (401) or 6 (403).
/// </summary>
public sealed class CliHttpModeTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("floodgate-cli-http-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task SubmitStatusWatchResults_ClientKey_RunTheBatchOverHttp()
    {
        var input = Path.Combine(_directory, "items.jsonl");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 12).Select(i => $$"""{"i": {{i}}}"""));
        var limiter = ApiSilo.UniqueName("cli-http");

        var submit = await RunAsync(silo.ClientKey, "submit", input, "--processor", "echo", "--limiter", limiter, "--local-limit", "3");
        Assert.Equal(0, submit.ExitCode);
        var id = Assert.Single(Lines(submit.Stdout));

        var watch = await RunAsync(silo.ClientKey, "watch", id);
        Assert.Equal(0, watch.ExitCode);
        Assert.Contains("12/12", watch.Stdout);

        var status = await RunAsync(silo.ClientKey, "status", id, "--json");
        Assert.Equal(0, status.ExitCode);
        using (var json = JsonDocument.Parse(status.Stdout))
        {
            Assert.Equal("completed", json.RootElement.GetProperty("state").GetString());
            Assert.Equal(12, json.RootElement.GetProperty("succeeded").GetInt32());
            Assert.StartsWith("P", json.RootElement.GetProperty("averageLatency").GetString());
        }

        var results = await RunAsync(silo.ClientKey, "results", id);
        Assert.Equal(0, results.ExitCode);
        var lines = Lines(results.Stdout);
        Assert.Equal(12, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var outcome = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, outcome.RootElement.GetProperty("position").GetInt32());
            Assert.Equal(i, outcome.RootElement.GetProperty("result").GetProperty("i").GetInt32());
        }
    }

    [Fact]
    public async Task SubmitWithOut_ClientKey_WritesOrderedResultsFile()
    {
        var input = Path.Combine(_directory, "words.txt");
        var output = Path.Combine(_directory, "results.jsonl");
        await File.WriteAllLinesAsync(input, ["alpha", "beta", "gamma"]);

        var run = await RunAsync(silo.ClientKey, "submit", input, "--processor", "echo", "--limiter", ApiSilo.UniqueName("cli-http"), "--out", output);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["\"alpha\"", "\"beta\"", "\"gamma\""], (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("result").GetRawText()));
    }

    [Fact]
    public async Task Cancel_RunningBatch_EndsCancelled()
    {
        var input = Path.Combine(_directory, "slow.jsonl");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 4).Select(i => $$"""{"delayMs": 60000}"""));
        var id = Lines((await RunAsync(silo.ClientKey, "submit", input, "--processor", "delay", "--limiter", ApiSilo.UniqueName("cli-http"), "--local-limit", "1")).Stdout)[0];

        var cancel = await RunAsync(silo.ClientKey, "cancel", id, "--json");
        Assert.Equal(0, cancel.ExitCode);
        Assert.Contains(JsonDocument.Parse(cancel.Stdout).RootElement.GetProperty("state").GetString(), new[] { "cancelling", "cancelled" });

        var watch = await RunAsync(silo.ClientKey, "watch", id);
        Assert.Equal(1, watch.ExitCode); // a watched batch that ended cancelled
    }

    [Fact]
    public async Task LimiterSetAndShow_AdminKey_ChangesTheLimit()
    {
        var limiter = ApiSilo.UniqueName("cli-http");

        var set = await RunAsync(silo.AdminKey, "limiter", "set", limiter, "--max-concurrency", "7", "--json");
        var show = await RunAsync(silo.ClientKey, "limiter", "show", limiter, "--json");

        Assert.Equal(0, set.ExitCode);
        Assert.Equal(0, show.ExitCode);
        using var json = JsonDocument.Parse(show.Stdout);
        Assert.Equal(7, json.RootElement.GetProperty("maxConcurrency").GetInt32());
        Assert.Equal("admin", json.RootElement.GetProperty("limitSource").GetString());
    }

    [Fact]
    public async Task LimiterSet_ClientKey_Exits6WithOneLineAndChangesNothing()
    {
        var limiter = ApiSilo.UniqueName("cli-http");

        var run = await RunAsync(silo.ClientKey, "limiter", "set", limiter, "--max-concurrency", "2");

        Assert.Equal(6, run.ExitCode);
        var line = Assert.Single(Lines(run.Stderr));
        Assert.StartsWith("error: ", line);
        Assert.Contains("admin key", line);
        Assert.Contains("403", line);
        Assert.Equal(string.Empty, run.Stdout);
        var show = await RunAsync(silo.ClientKey, "limiter", "show", limiter, "--json");
        Assert.NotEqual(2, JsonDocument.Parse(show.Stdout).RootElement.GetProperty("maxConcurrency").GetInt32());
    }

    [Fact]
    public async Task ListAndRetry_ClientKey_WorkOverHttp()
    {
        var input = Path.Combine(_directory, "some-fail.jsonl");
        await File.WriteAllLinesAsync(input, ["""{"i": 0}""", """{"fail": "permanent"}""", """{"i": 2}"""]);
        var id = "b-cli-retry-" + Guid.NewGuid().ToString("N")[..10];
        var submit = await RunAsync(silo.ClientKey, "submit", input, "--processor", "delay", "--option", "delayMs=1", "--limiter", ApiSilo.UniqueName("cli-http"), "--batch-id", id);
        Assert.Equal(0, submit.ExitCode);
        Assert.Equal(0, (await RunAsync(silo.ClientKey, "watch", id)).ExitCode);

        var list = await RunAsync(silo.ClientKey, "list", "--state", "completed", "--limit", "500", "--json");
        Assert.Equal(0, list.ExitCode);
        using (var page = JsonDocument.Parse(list.Stdout))
        {
            var listed = Assert.Single(page.RootElement.GetProperty("batches").EnumerateArray(), b => b.GetProperty("batchId").GetString() == id);
            Assert.Equal((3, 1), (listed.GetProperty("total").GetInt32(), listed.GetProperty("failed").GetInt32()));
        }

        var retry = await RunAsync(silo.ClientKey, "retry", id, "--watch");
        Assert.Equal(0, retry.ExitCode);
        Assert.Equal([$"{id} retrying 1 failed item(s) (round 1)"], Lines(retry.Stdout));
        using (var status = JsonDocument.Parse((await RunAsync(silo.ClientKey, "status", id, "--json")).Stdout))
        {
            Assert.Equal(("completed", 1), (status.RootElement.GetProperty("state").GetString(), status.RootElement.GetProperty("retryRounds").GetInt32()));
        }

        var results = await RunAsync(silo.ClientKey, "results", id);
        Assert.Equal([0, 1, 2], Lines(results.Stdout).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("position").GetInt32()));
    }

    [Fact]
    public async Task Retry_BatchWithoutFailures_Exits7OverHttpAndChangesNothing()
    {
        var input = Path.Combine(_directory, "clean.txt");
        await File.WriteAllLinesAsync(input, ["x"]);
        var id = Lines((await RunAsync(silo.ClientKey, "submit", input, "--limiter", ApiSilo.UniqueName("cli-http"), "--watch")).Stdout)[0];

        var run = await RunAsync(silo.ClientKey, "retry", id);

        Assert.Equal(7, run.ExitCode);
        Assert.Contains("no failed items", Assert.Single(Lines(run.Stderr)));
        using var status = JsonDocument.Parse((await RunAsync(silo.ClientKey, "status", id, "--json")).Stdout);
        Assert.Equal(0, status.RootElement.GetProperty("retryRounds").GetInt32());
    }

    [Theory]
    [InlineData(null, "X-Api-Key")]
    [InlineData("a-key-this-silo-does-not-know", "not valid")]
    public async Task Status_MissingOrWrongKey_Exits5WithOneLineNamingTheRemedy(string? key, string mentions)
    {
        var run = await RunAsync(key, "limiter", "show", ApiSilo.UniqueName("cli-http"));

        Assert.Equal(5, run.ExitCode);
        var line = Assert.Single(Lines(run.Stderr));
        Assert.StartsWith("error: ", line);
        Assert.Contains(mentions, line);
        Assert.Contains("--api-key", line);
        Assert.DoesNotContain("   at ", run.Stderr);
        if (key is not null)
        {
            Assert.DoesNotContain(key, run.Stderr);
        }
    }

    [Fact]
    public async Task Submit_MissingKey_Exits5AndCreatesNoBatch()
    {
        var input = Path.Combine(_directory, "one.txt");
        await File.WriteAllLinesAsync(input, ["x"]);
        var limiter = ApiSilo.UniqueName("cli-http");

        var run = await RunAsync(null, "submit", input, "--limiter", limiter, "--batch-id", "b-" + Guid.NewGuid().ToString("N")[..12]);

        Assert.Equal(5, run.ExitCode);
        Assert.Equal(string.Empty, run.Stdout);
        var show = await RunAsync(silo.ClientKey, "limiter", "show", limiter, "--json");
        Assert.Equal(0, JsonDocument.Parse(show.Stdout).RootElement.GetProperty("grants").GetInt32());
    }

    [Fact]
    public async Task Status_UnknownBatch_Exits4()
    {
        var run = await RunAsync(silo.ClientKey, "status", "b-nosuchbatch42");

        Assert.Equal(4, run.ExitCode);
        Assert.Equal(["error: batch 'b-nosuchbatch42' was not found."], Lines(run.Stderr));
    }

    [Fact]
    public async Task Submit_InvalidSpec_Exits2BeforeSending()
    {
        var input = Path.Combine(_directory, "bad.txt");
        await File.WriteAllLinesAsync(input, ["x"]);

        var run = await RunAsync(silo.ClientKey, "submit", input, "--local-limit", "0");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(Lines(run.Stderr)));
    }

    [Fact]
    public async Task Status_NothingListensAtUrl_Exits3NamingTheUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await RunCliAsync("status", "b-1", "--url", $"http://127.0.0.1:{port}/");

        Assert.Equal(3, run.ExitCode);
        Assert.StartsWith($"error: could not reach Floodgate at http://127.0.0.1:{port}/", Assert.Single(Lines(run.Stderr)));
    }

    [Theory]
    [InlineData("status", "b-1", "--url", "ftp://host/", "not an http")]
    [InlineData("status", "b-1", "--url", "http://127.0.0.1:1/", "--gateway", "127.0.0.1:30000", "exclude each other")]
    [InlineData("status", "b-1", "--api-key", "some-key-0123456789", "--api-key needs --url")]
    public async Task GlobalOptions_BadCombination_Exits2WithOneLine(params string[] argsAndMessage)
    {
        var run = await RunCliAsync(argsAndMessage[..^1]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(argsAndMessage[^1], Assert.Single(Lines(run.Stderr)));
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? key, params string[] args) =>
        RunCliAsync([.. args, "--url", silo.Http.BaseAddress!.ToString(), .. key is null ? Array.Empty<string>() : ["--api-key", key]]);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        await using var clients = new CliClientProvider();
        var exitCode = await FloodgateCli.RunAsync(args, clients, stdout, stderr, CancellationToken.None);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}

/// <summary>HTTP mode against a silo with no keys configured (local development): no key needed for client commands.</summary>
public sealed class CliHttpModeWithoutKeysTests(OpenApiSilo silo) : IClassFixture<OpenApiSilo>
{
    [Fact]
    public async Task SubmitAndResults_NoKey_Work()
    {
        var input = Path.Combine(Directory.CreateTempSubdirectory("floodgate-cli-open-").FullName, "items.txt");
        await File.WriteAllLinesAsync(input, ["a", "b"]);
        var url = silo.Http.BaseAddress!.ToString();

        var submit = await RunAsync("submit", input, "--processor", "echo", "--limiter", ApiSilo.UniqueName("cli-open"), "--url", url);
        var results = await RunAsync("results", submit.Stdout.Trim(), "--url", url);

        Assert.Equal(0, submit.ExitCode);
        Assert.Equal(0, results.ExitCode);
        Assert.Equal(2, results.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task LimiterSet_NoAdminKeyConfigured_Exits6NamingTheSetting()
    {
        var run = await RunAsync("limiter", "set", ApiSilo.UniqueName("cli-open"), "--max-concurrency", "3", "--url", silo.Http.BaseAddress!.ToString());

        Assert.Equal(6, run.ExitCode);
        Assert.Contains("Floodgate:Api:AdminKeys", run.Stderr);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        await using var clients = new CliClientProvider();
        return (await FloodgateCli.RunAsync(args, clients, stdout, stderr, CancellationToken.None), stdout.ToString(), stderr.ToString());
    }
}
