using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Output;
using Floodgate.Cli.Tests.Fakes;
using Floodgate.Client.Formatting;

namespace Floodgate.Cli.Tests;

/// <summary>status, watch, results and cancel against a fake batch.</summary>
public sealed class BatchCommandTests : IDisposable
{
    private const string BatchId = "b-7";
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Status_Text_ShowsStateProgressLineAndWarnings()
    {
        var progress = Snapshots.Progress(BatchId, 4, succeeded: 1, failed: 1, inFlight: 2, warnings: "explicit limit 10 ignored");
        var client = new FakeFloodgateClient();
        client.AddBatch(BatchId, progress);

        var run = await CliRun.RunAsync(client, "status", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("batch      b-7", run.StdoutLines);
        Assert.Contains("state      running", run.StdoutLines);
        Assert.Contains($"progress   {ProgressText.Describe(progress)}", run.StdoutLines);
        Assert.Contains("warning    explicit limit 10 ignored", run.StdoutLines);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task Status_Json_PrintsTheRecordCamelCaseWithEnumsAsStrings()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(BatchId, Snapshots.Progress(BatchId, 4, BatchState.Completed, succeeded: 4, warnings: "w1"));

        var run = await CliRun.RunAsync(client, "status", BatchId, "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(BatchId, root.GetProperty("batchId").GetString());
        Assert.Equal("completed", root.GetProperty("state").GetString());
        Assert.Equal(4, root.GetProperty("succeeded").GetInt32());
        Assert.Equal("w1", root.GetProperty("warnings")[0].GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("eta").ValueKind);
    }

    [Fact]
    public async Task Status_UnknownBatch_Exits4WithOneErrorLine()
    {
        var run = await CliRun.RunAsync(new FakeFloodgateClient(), "status", "b-nope");

        Assert.Equal(4, run.ExitCode);
        Assert.Equal(["error: batch 'b-nope' was not found."], run.StderrLines);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Watch_BatchCompletes_PrintsProgressLinesAndSummaryAndExits0()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(
            BatchId,
            Snapshots.Progress(BatchId, 1),
            Snapshots.Progress(BatchId, 2, succeeded: 2),
            Snapshots.Progress(BatchId, 3, BatchState.Completed, succeeded: 4));

        var run = await CliRun.RunAsync(client, "watch", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("b-7 running: 0/4 done", run.StdoutLines[0]);
        Assert.Contains(run.StdoutLines, line => line.StartsWith("b-7 completed: 4/4 done (4 ok, 0 failed, 0 cancelled)", StringComparison.Ordinal));
        Assert.Contains("b-7 completed in 2s: 4 succeeded, 0 failed, 0 cancelled (of 4)", run.StdoutLines);
        Assert.Contains("retries 3 · rate-limit hits 1 · breaker rejections 0 · latency avg 400ms · p95 1.2s", run.StdoutLines);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task Watch_BatchEndsCancelled_Exits1()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(
            BatchId,
            Snapshots.Progress(BatchId, 1, BatchState.Cancelling, succeeded: 1, inFlight: 1),
            Snapshots.Progress(BatchId, 2, BatchState.Cancelled, succeeded: 1, cancelled: 3));

        var run = await CliRun.RunAsync(client, "watch", BatchId);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("b-7 cancelled in 2s: 1 succeeded, 0 failed, 3 cancelled (of 4)", run.StdoutLines);
    }

    [Fact]
    public async Task Watch_NewWarning_IsPrintedOnceOnStderr()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(
            BatchId,
            Snapshots.Progress(BatchId, 1, warnings: "limit conflict"),
            Snapshots.Progress(BatchId, 2, BatchState.Completed, succeeded: 4, warnings: "limit conflict"));

        var run = await CliRun.RunAsync(client, "watch", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["warning: limit conflict"], run.StderrLines);
    }

    [Fact]
    public async Task Watch_InteractiveTerminal_DrawsAProgressBarAndTheSummary()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(
            BatchId,
            Snapshots.Progress(BatchId, 1),
            Snapshots.Progress(BatchId, 2, BatchState.Completed, succeeded: 4));
        var stdout = new StringWriter();
        var terminal = new Terminal(stdout, new StringWriter(), stdoutIsInteractive: true);

        var exitCode = await FloodgateCli.RunAsync(["watch", BatchId], new FixedClientProvider(client), terminal, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, exitCode);
        Assert.Contains("100%", stdout.ToString());
        Assert.Contains("b-7 completed in 2s: 4 succeeded", stdout.ToString());
    }

    [Fact]
    public async Task Results_ToStdout_StreamsEveryOutcomeInOrderAcrossPages()
    {
        var client = new FakeFloodgateClient();
        var batch = client.AddBatch(BatchId, Snapshots.Progress(BatchId, 1, BatchState.Completed, total: 5, succeeded: 4, cancelled: 1));
        batch.Outcomes.AddRange(Enumerable.Range(0, 4).Select(i => ItemOutcome.Succeeded(i, $"{{\"i\":{i}}}", 1)));
        batch.Outcomes.Add(ItemOutcome.Cancelled(4, 0));

        var run = await CliRun.RunAsync(client, "results", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(batch.Outcomes.Select(OutcomeJson.ToLine), run.StdoutLines);
    }

    [Fact]
    public async Task Results_ToFile_WritesJsonlAndReportsTheCountOnStderr()
    {
        var client = new FakeFloodgateClient();
        var batch = client.AddBatch(BatchId, Snapshots.Progress(BatchId, 1, BatchState.Completed, total: 1, succeeded: 1));
        batch.Outcomes.Add(ItemOutcome.Succeeded(0, "\"x\"", 1));
        var path = _files.PathOf("out.jsonl");

        var run = await CliRun.RunAsync(client, "results", BatchId, "--out", path);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["{\"position\":0,\"status\":\"succeeded\",\"result\":\"x\",\"error\":null,\"attempts\":1}"], File.ReadAllLines(path));
        Assert.Equal("", run.Stdout);
        Assert.Equal([$"1 results written to {path}"], run.StderrLines);
    }

    [Fact]
    public async Task Results_UnknownBatchWithOut_Exits4AndCreatesNoFile()
    {
        var path = _files.PathOf("out.jsonl");

        var run = await CliRun.RunAsync(new FakeFloodgateClient(), "results", "b-nope", "--out", path);

        Assert.Equal(4, run.ExitCode);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Cancel_PrintsTheStateAfterTheRequest()
    {
        var client = new FakeFloodgateClient();
        var batch = client.AddBatch(BatchId, Snapshots.Progress(BatchId, 5, BatchState.Cancelling, succeeded: 1, inFlight: 1));

        var run = await CliRun.RunAsync(client, "cancel", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(1, batch.CancelCalls);
        var line = Assert.Single(run.StdoutLines);
        Assert.StartsWith("b-7 cancelling: 1/4 done", line);
    }

    [Fact]
    public async Task Cancel_Json_PrintsTheRecord()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(BatchId, Snapshots.Progress(BatchId, 5, BatchState.Cancelled, cancelled: 4));

        var run = await CliRun.RunAsync(client, "cancel", BatchId, "--json");

        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("cancelled", json.RootElement.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("status")]
    [InlineData("watch")]
    [InlineData("results")]
    [InlineData("cancel")]
    public async Task BatchCommand_InvalidBatchId_Exits2WithoutConnecting(string command)
    {
        var clients = new RecordingClientProvider();

        var run = await CliRun.RunAsync(clients, command, "bad/id");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: Batch id 'bad/id' may contain only", Assert.Single(run.StderrLines));
        Assert.Empty(clients.Connects);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("watch")]
    [InlineData("results")]
    [InlineData("cancel")]
    [InlineData("retry")]
    public async Task BatchCommand_ReservedBatchId_Exits2WithoutConnecting(string command)
    {
        var clients = new RecordingClientProvider();

        var run = await CliRun.RunAsync(clients, command, "floodgate-warm-up.b");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(
            "error: Batch id 'floodgate-warm-up.b' is not allowed: names starting with 'floodgate-warm-up.' are reserved for the silo's start-up warm-up.",
            Assert.Single(run.StderrLines));
        Assert.Empty(clients.Connects);
    }
}
