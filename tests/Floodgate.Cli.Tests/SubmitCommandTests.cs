using Floodgate.Batches;
using Floodgate.Cli.Tests.Fakes;
using Floodgate.Client.Formatting;
using Floodgate.Validation;

namespace Floodgate.Cli.Tests;

public sealed class SubmitCommandTests : IDisposable
{
    private const string BatchId = "b-1";
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Submit_ValidInput_PrintsOnlyTheBatchIdAndSubmitsTheSpec()
    {
        var (client, batch) = CreateSut(Snapshots.Progress(BatchId, 1));
        var words = _files.Write("words.txt", "apple\nbanana\n");

        var run = await CliRun.RunAsync(
            client,
            "submit", words, "--batch-id", BatchId, "--processor", "openai-chat", "--limiter", "openai:acct-1",
            "--local-limit", "8", "--global-limit", "10", "--option", "model=m1", "--option", "temperature=0",
            "--idempotency-key", "run-7");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(BatchId + Environment.NewLine, run.Stdout);
        Assert.Equal("", run.Stderr);
        var spec = batch.SubmittedSpec!;
        Assert.Equal(["\"apple\"", "\"banana\""], spec.Items);
        Assert.Equal("openai-chat", spec.Processor);
        Assert.Equal("openai:acct-1", spec.Limiter);
        Assert.Equal(8, spec.LocalLimit);
        Assert.Equal(10, spec.GlobalLimit);
        Assert.Equal("run-7", spec.IdempotencyKey);
        Assert.Equal(new Dictionary<string, string> { ["model"] = "m1", ["temperature"] = "0" }, spec.ProcessorOptions);
    }

    [Fact]
    public async Task Submit_DefaultOptions_UseTheSharedDefaults()
    {
        var (client, batch) = CreateSut(Snapshots.Progress(BatchId, 1));
        var words = _files.Write("words.txt", "apple\n");

        var run = await CliRun.RunAsync(client, "submit", words, "--batch-id", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(FloodgateDefaults.ProcessorName, batch.SubmittedSpec!.Processor);
        Assert.Equal(FloodgateDefaults.LimiterName, batch.SubmittedSpec.Limiter);
        Assert.Equal(FloodgateDefaults.LocalLimit, batch.SubmittedSpec.LocalLimit);
        Assert.Null(batch.SubmittedSpec.GlobalLimit);
        Assert.Empty(batch.SubmittedSpec.ProcessorOptions);
    }

    [Theory]
    [InlineData("Local limit must be between 1 and", "submit", "{words}", "--local-limit", "0")]
    [InlineData("Argument 'xml' not recognized", "submit", "{words}", "--format", "xml")]
    [InlineData("--option 'novalue' is not key=value", "submit", "{words}", "--option", "novalue")]
    [InlineData("Limiter name 'a/b' may contain only", "submit", "{words}", "--limiter", "a/b")]
    [InlineData("Batch id 'x/y' may contain only", "submit", "{words}", "--batch-id", "x/y")]
    [InlineData("Batch id 'floodgate-warm-up.b' is not allowed: names starting with 'floodgate-warm-up.' are reserved for the silo's start-up warm-up", "submit", "{words}", "--batch-id", "floodgate-warm-up.b")]
    [InlineData("Limiter name 'floodgate-warm-up.l' is not allowed: names starting with 'floodgate-warm-up.' are reserved", "submit", "{words}", "--limiter", "floodgate-warm-up.l")]
    [InlineData("Idempotency key 'floodgate-warm-up.k' is not allowed: names starting with 'floodgate-warm-up.' are reserved", "submit", "{words}", "--idempotency-key", "floodgate-warm-up.k")]
    [InlineData("Cannot parse argument 'many' for option '--local-limit'", "submit", "{words}", "--local-limit", "many")]
    [InlineData("Global limit must be between 1 and", "submit", "{words}", "--global-limit", "-1")]
    [InlineData("line 2: not valid JSON", "submit", "{bad-json}")]
    [InlineData("file not found", "submit", "{missing}")]
    [InlineData("no items in", "submit", "{empty}")]
    [InlineData("--csv-column applies only to CSV input", "submit", "{words}", "--csv-column", "word")]
    [InlineData("does not exist", "submit", "{words}", "--out", "{missing-dir}/results.jsonl")]
    [InlineData("Required argument 'file' missing", "submit")]
    public async Task Submit_BadInput_Exits2WithOneErrorLineAndNeverConnects(string expected, params string[] args)
    {
        var clients = new RecordingClientProvider();

        var run = await CliRun.RunAsync(clients, args.Select(ResolveFile).ToArray());

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.Equal("", run.Stdout);
        Assert.Empty(clients.Connects);
    }

    [Fact]
    public async Task Submit_SeveralProblems_ReportsThemAllOnOneLine()
    {
        var clients = new RecordingClientProvider();
        var words = _files.Write("words.txt", "apple\n");

        var run = await CliRun.RunAsync(clients, "submit", words, "--local-limit", "0", "--limiter", "a/b");

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.Contains("Local limit", line);
        Assert.Contains("Limiter name", line);
        Assert.Empty(clients.Connects);
    }

    [Fact]
    public async Task Submit_ClusterRejectsTheSpec_Exits2WithItsMessage()
    {
        var (client, batch) = CreateSut(Snapshots.Progress(BatchId, 1));
        batch.Failure = new FloodgateValidationException("Unknown processor 'nope'. Registered: delay, echo.");
        var words = _files.Write("words.txt", "a\n");

        var run = await CliRun.RunAsync(client, "submit", words, "--batch-id", BatchId, "--processor", "nope");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(["error: Unknown processor 'nope'. Registered: delay, echo."], run.StderrLines);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Submit_WithWatch_PrintsIdFirstOnStdoutAndProgressOnStderr()
    {
        var (client, _) = CreateSut(
            Snapshots.Progress(BatchId, 1),
            Snapshots.Progress(BatchId, 2, succeeded: 2, inFlight: 2),
            Snapshots.Progress(BatchId, 3, BatchState.Completed, succeeded: 3, failed: 1));
        var words = _files.Write("words.txt", "a\nb\nc\nd\n");

        var run = await CliRun.RunAsync(client, "submit", words, "--batch-id", BatchId, "--watch");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([BatchId], run.StdoutLines);
        Assert.Contains("b-1 running: 0/4 done", run.Stderr);
        Assert.Contains("b-1 completed: 4/4 done (3 ok, 1 failed, 0 cancelled)", run.Stderr);
        Assert.Contains("3 succeeded, 1 failed, 0 cancelled (of 4)", run.Stderr);
        Assert.Contains("retries 3 · rate-limit hits 1", run.Stderr);
        Assert.Contains("p95 1.2s", run.Stderr);
    }

    [Fact]
    public async Task Submit_WatchedBatchEndsCancelled_Exits1()
    {
        var (client, _) = CreateSut(
            Snapshots.Progress(BatchId, 1),
            Snapshots.Progress(BatchId, 2, BatchState.Cancelled, succeeded: 1, cancelled: 3));
        var words = _files.Write("words.txt", "a\nb\nc\nd\n");

        var run = await CliRun.RunAsync(client, "submit", words, "--batch-id", BatchId, "--watch");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal([BatchId], run.StdoutLines);
        Assert.Contains("b-1 cancelled", run.Stderr);
    }

    [Fact]
    public async Task Submit_WithOut_WritesOrderedResultsToTheFile()
    {
        var (client, batch) = CreateSut(
            Snapshots.Progress(BatchId, 1),
            Snapshots.Progress(BatchId, 2, BatchState.Completed, total: 3, succeeded: 2, failed: 1));
        batch.Outcomes.AddRange(
        [
            ItemOutcome.Succeeded(0, "\"A\"", 1),
            ItemOutcome.Failed(1, "upstream said 500", 3),
            ItemOutcome.Succeeded(2, "{\"n\":3}", 2),
        ]);
        var words = _files.Write("words.txt", "a\nb\nc\n");
        var results = _files.PathOf("results.jsonl");

        var run = await CliRun.RunAsync(client, "submit", words, "--batch-id", BatchId, "--out", results);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([BatchId], run.StdoutLines);
        Assert.Equal(batch.Outcomes.Select(OutcomeJson.ToLine), File.ReadAllLines(results));
        Assert.Contains($"3 results written to {results}", run.Stderr);
    }

    [Fact]
    public async Task Submit_ConflictingGlobalLimit_WarnsOnStderr()
    {
        var (client, _) = CreateSut(Snapshots.Progress(BatchId, 1, warnings: "Limiter 'default' already has limit 60; 10 was ignored."));
        var words = _files.Write("words.txt", "a\n");

        var run = await CliRun.RunAsync(client, "submit", words, "--batch-id", BatchId, "--global-limit", "10");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([BatchId], run.StdoutLines);
        Assert.Equal(["warning: Limiter 'default' already has limit 60; 10 was ignored."], run.StderrLines);
    }

    private static (FakeFloodgateClient Client, FakeBatchGrain Batch) CreateSut(params BatchProgress[] snapshots)
    {
        var client = new FakeFloodgateClient();
        return (client, client.AddBatch(BatchId, snapshots));
    }

    private string ResolveFile(string arg) => arg switch
    {
        "{words}" => _files.Write("words.txt", "apple\nbanana\n"),
        "{bad-json}" => _files.Write("bad.jsonl", "\"ok\"\n{broken\n"),
        "{missing}" => _files.PathOf("absent.txt"),
        "{empty}" => _files.Write("empty.txt", "\n\n"),
        _ => arg.Replace("{missing-dir}", _files.PathOf("no-such-dir")),
    };
}
