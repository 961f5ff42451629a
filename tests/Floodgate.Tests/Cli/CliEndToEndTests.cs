using System.Text.Json;
using Floodgate.Cli;
using Floodgate.Cli.Connection;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Cli;

/// <summary>The <c>floodgate</c> CLI against the in-process cluster: file in, ordered results out.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CliEndToEndTests(ClusterFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("floodgate-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await FloodgateCli.RunAsync(args, new FixedClientProvider(fixture.Client), stdout, stderr, CancellationToken.None);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Submit_WordFileWithOut_WritesOrderedResultsAndHoldsLocalLimit()
    {
        fixture.Simulator.ResetStats();
        var input = Path.Combine(_directory, "words.txt");
        var output = Path.Combine(_directory, "results.jsonl");
        var words = Enumerable.Range(0, 30).Select(i => $"word{i}").ToArray();
        await File.WriteAllLinesAsync(input, words);
        var limiter = Unique.Name("cli");

        var run = await RunAsync("submit", input, "--processor", "openai-chat", "--limiter", limiter, "--local-limit", "3", "--out", output);

        Assert.Equal(0, run.ExitCode);
        var batchId = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Trim();
        Assert.Equal(30, (await fixture.Client.GetBatch(batchId).GetProgressAsync()).Succeeded);
        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal(30, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, line.RootElement.GetProperty("position").GetInt32());
            Assert.Contains($"word{i}", line.RootElement.GetProperty("result").GetProperty("content").GetString());
        }

        Assert.InRange(fixture.Simulator.GetStats().MaxConcurrent, 1, 3);
    }

    [Fact]
    public async Task Submit_MalformedJsonLine_ExitsTwoAndCreatesNoBatch()
    {
        var input = Path.Combine(_directory, "items.jsonl");
        await File.WriteAllLinesAsync(input, ["{\"a\":1}", "{oops", "{\"a\":3}"]);
        var limiter = Unique.Name("cli");

        var run = await RunAsync("submit", input, "--limiter", limiter);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("line 2", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
        Assert.Equal(0, (await fixture.Client.GetLimiterStatusAsync(limiter)).Grants);
    }

    [Fact]
    public async Task LimiterShow_Json_PrintsLiveStatus()
    {
        var limiter = Unique.Name("cli");
        await fixture.Client.SetLimitsAsync(limiter, new Floodgate.Limiting.LimiterLimits(12));

        var run = await RunAsync("limiter", "show", limiter, "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(12, json.RootElement.GetProperty("maxConcurrency").GetInt32());
    }

    [Fact]
    public async Task Results_UnknownBatch_ExitsFour()
    {
        var run = await RunAsync("results", "no-such-batch");

        Assert.Equal(4, run.ExitCode);
        Assert.StartsWith("error:", run.Stderr.Trim());
    }
}
