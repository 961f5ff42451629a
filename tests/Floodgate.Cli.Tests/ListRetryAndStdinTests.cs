using Floodgate.Batches;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Tests.Fakes;
using Floodgate.Validation;

namespace Floodgate.Cli.Tests;

/// <summary><c>submit -</c> (items from standard input), <c>list</c> and <c>retry</c>.</summary>
public sealed class ListRetryAndStdinTests
{
    private const string BatchId = "b-1";

    private static BatchSummary Summary(string id, BatchState state, int done, int failed) =>
        new(id, state, 10, done - failed, failed, 0, "acct", Snapshots.SubmittedAt, null, 0);

    [Fact]
    public async Task Submit_Stdin_SendsEachLineAsAnItem()
    {
        var client = new FakeFloodgateClient();
        var batch = client.AddBatch(BatchId, Snapshots.Progress(BatchId, 1));

        var run = await CliRun.RunWithInputAsync(new FixedClientProvider(client), "apple\n\nbanana\n", "submit", "-", "--batch-id", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([BatchId], run.StdoutLines);
        Assert.Equal(["\"apple\"", "\"banana\""], batch.SubmittedSpec!.Items);
    }

    [Fact]
    public async Task Submit_StdinAsJsonl_KeepsEachValue()
    {
        var client = new FakeFloodgateClient();
        var batch = client.AddBatch(BatchId, Snapshots.Progress(BatchId, 1));

        var run = await CliRun.RunWithInputAsync(new FixedClientProvider(client), "{\"a\":1}\n2\n", "submit", "-", "--format", "jsonl", "--batch-id", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["{\"a\":1}", "2"], batch.SubmittedSpec!.Items);
    }

    [Theory]
    [InlineData("", "no items in standard input")]
    [InlineData("1\n{oops\n", "standard input line 2: not valid JSON")]
    public async Task Submit_BadStdin_Exits2WithOneErrorLine(string stdin, string expected)
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(BatchId, Snapshots.Progress(BatchId, 1));

        var run = await CliRun.RunWithInputAsync(new FixedClientProvider(client), stdin, "submit", "-", "--format", "jsonl", "--batch-id", BatchId);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.Contains(expected, line);
        Assert.Null(client.Batches[BatchId].SubmittedSpec);
    }

    [Fact]
    public async Task List_PrintsOneLinePerBatchAndTheNextPageCommandOnStderr()
    {
        var client = new FakeFloodgateClient
        {
            ListPage = new BatchListPage([Summary("b-new", BatchState.Running, 4, 0), Summary("b-old", BatchState.Completed, 10, 2)], "638712345678901234.b-old"),
        };

        var run = await CliRun.RunAsync(client, "list", "--state", "running", "--limit", "2");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, run.StdoutLines.Length);
        Assert.StartsWith("BATCH", run.StdoutLines[0]);
        Assert.Matches(@"^b-new\s+running\s+4/10\s+0\s+2025-01-02 03:04:05Z$", run.StdoutLines[1]);
        Assert.Matches(@"^b-old\s+completed\s+10/10\s+2\s+", run.StdoutLines[2]);
        Assert.Equal(["more: floodgate list --state running --limit 2 --after 638712345678901234.b-old"], run.StderrLines);
        Assert.Equal(new BatchListQuery(BatchState.Running, 2), Assert.Single(client.ListQueries));
    }

    [Fact]
    public async Task List_Json_PrintsThePage()
    {
        var client = new FakeFloodgateClient { ListPage = new BatchListPage([Summary("b-1", BatchState.Completed, 10, 0)], null) };

        var run = await CliRun.RunAsync(client, "list", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("\"batchId\": \"b-1\"", run.Stdout);
        Assert.Contains("\"next\": null", run.Stdout);
        Assert.Equal("", run.Stderr);
    }

    [Theory]
    [InlineData("Argument 'done' not recognized", "list", "--state", "done")]
    [InlineData("Limit must be between 1 and 500", "list", "--limit", "0")]
    [InlineData("is not a cursor", "list", "--after", "garbage")]
    [InlineData("Batch id 'x/y' may contain only", "retry", "x/y")]
    [InlineData("Required argument 'batchId' missing", "retry")]
    public async Task ListOrRetry_BadInput_Exits2AndNeverConnects(string expected, params string[] args)
    {
        var clients = new RecordingClientProvider();

        var run = await CliRun.RunAsync(clients, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, Assert.Single(run.StderrLines));
        Assert.Empty(clients.Connects);
    }

    [Fact]
    public async Task Retry_FinishedBatch_PrintsHowManyRunAgain()
    {
        var client = new FakeFloodgateClient();
        var batch = client.AddBatch(BatchId, Snapshots.Progress(BatchId, 7, total: 10, succeeded: 8) with { Pending = 2, RetryRounds = 1 });

        var run = await CliRun.RunAsync(client, "retry", BatchId);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["b-1 retrying 2 failed item(s) (round 1)"], run.StdoutLines);
        Assert.Equal(1, batch.RetryCalls);
    }

    [Fact]
    public async Task Retry_RunningBatch_Exits5WithTheReason()
    {
        var client = new FakeFloodgateClient();
        client.AddBatch(BatchId, Snapshots.Progress(BatchId, 1)).Failure =
            new FloodgateConflictException("Batch 'b-1' is still running; retry runs the failed items of a finished batch.");

        var run = await CliRun.RunAsync(client, "retry", BatchId);

        Assert.Equal(7, run.ExitCode);
        Assert.Equal(["error: Batch 'b-1' is still running; retry runs the failed items of a finished batch."], run.StderrLines);
    }

    [Fact]
    public async Task Retry_UnknownBatch_Exits4()
    {
        var run = await CliRun.RunAsync(new FakeFloodgateClient(), "retry", "b-missing");

        Assert.Equal(4, run.ExitCode);
    }
}
