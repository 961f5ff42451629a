using System.Buffers;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Client.Http;
using Floodgate.Silo.Security;

namespace Floodgate.Silo.Api;

/// <summary>
/// <c>/api/batches</c>: submit, progress, ordered results (NDJSON, streamed), cancel. Everything goes through
/// <see cref="IFloodgateClient"/>, so validation and ids are the SDK's, not a second copy.
/// </summary>
internal static class BatchEndpoints
{
    public static RouteGroupBuilder MapBatchEndpoints(this RouteGroupBuilder api)
    {
        var batches = api.MapGroup("/batches").RequireApiKey(ApiRole.Client);
        batches.MapPost("", SubmitAsync)
            .WithSummary("Submit a batch").DescribesBody<SubmitBatchRequest>()
            .Produces<BatchProgress>(StatusCodes.Status201Created).ProducesProblems(400, 415);
        batches.MapGet("/{id}", GetProgressAsync)
            .WithSummary("A batch's progress; with afterVersion (and waitMs), a long poll for the next change")
            .Produces<BatchProgress>().ProducesProblems(400, 404);
        batches.MapGet("/{id}/results", ReadResultsAsync)
            .WithSummary("Outcomes in input order as NDJSON, one {position, status, result, error, attempts} object per line, streamed as the completed prefix grows")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson").ProducesProblems(400, 404);
        batches.MapDelete("/{id}", CancelAsync)
            .WithSummary("Cancel a batch").Produces<BatchProgress>(StatusCodes.Status202Accepted).ProducesProblems(400, 404);
        return api;
    }

    // Batch ids are validated names (letters, digits and - _ . : @), all legal in a path segment as they are.
    public static string Location(string batchId) => $"/api/batches/{batchId}";

    private static async Task<IResult> SubmitAsync(HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var body = await ApiJson.ReadAsync<SubmitBatchRequest>(request, required: true, cancellationToken);
        var batch = await floodgate.SubmitBatchAsync(body!.ToSpec(), body.BatchId, cancellationToken);
        var progress = batch.Submitted ?? await batch.GetProgressAsync(cancellationToken);
        return ApiJson.Created(request.HttpContext.Response, Location(batch.Id), progress);
    }

    /// <summary>
    /// The progress now, or, with <c>?afterVersion=N</c>, once its version is past N or the batch is finished, waiting at
    /// most <c>waitMs</c> (default 10 s; the silo caps it): a long poll, so watchers see each change without polling.
    /// </summary>
    private static async Task<IResult> GetProgressAsync(string id, HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var batch = floodgate.GetBatch(id);
        var wait = ProgressWait.Read(request.Query);
        return ApiJson.Ok(wait is { } w
            ? await batch.WaitForProgressAsync(w.AfterVersion, w.MaxWait, cancellationToken)
            : await batch.GetProgressAsync(cancellationToken));
    }

    private static async Task<IResult> ReadResultsAsync(string id, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        var batch = floodgate.GetBatch(id);
        // An unknown batch must be a 404 problem, which is impossible once the stream's 200 is on the wire.
        await batch.GetProgressAsync(cancellationToken);
        return new OutcomeStreamResult(batch);
    }

    private static async Task<IResult> CancelAsync(string id, IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(await floodgate.GetBatch(id).CancelAsync(cancellationToken), StatusCodes.Status202Accepted);
}

/// <summary>
/// Streams a batch's outcomes as NDJSON (one <see cref="OutcomeJson"/> line per item, input order) as the completed
/// prefix grows. Flushes whenever the next outcome is not ready yet (the end of a page), so readers see results while
/// the batch runs; stops when the caller disconnects.
/// </summary>
internal sealed partial class OutcomeStreamResult(BatchHandle batch) : IResult
{
    public async Task ExecuteAsync(HttpContext http)
    {
        var cancellationToken = http.RequestAborted;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ApiDefaults.NdjsonContentType;
        response.Headers.CacheControl = "no-store";
        var body = response.BodyWriter;
        try
        {
            await response.StartAsync(cancellationToken);
            await using var outcomes = batch.ReadResultsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using var json = new Utf8JsonWriter(body);
            long unflushed = 0;
            var next = outcomes.MoveNextAsync();
            while (true)
            {
                if (!next.IsCompleted && unflushed > 0)
                {
                    // The next outcome needs a call to the batch: send what is buffered first.
                    await body.FlushAsync(cancellationToken);
                    unflushed = 0;
                }

                if (!await next)
                {
                    break;
                }

                OutcomeJson.Write(json, outcomes.Current);
                await json.FlushAsync(cancellationToken);
                unflushed += json.BytesCommitted + 1;
                json.Reset();
                body.Write("\n"u8);
                if (unflushed >= ApiDefaults.ResultFlushThresholdBytes)
                {
                    await body.FlushAsync(cancellationToken);
                    unflushed = 0;
                }

                next = outcomes.MoveNextAsync();
            }

            await body.FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The reader disconnected; the batch keeps running and its results stay readable.
        }
        catch (Exception ex)
        {
            // The 200 is already sent: abort the connection so the reader sees a broken stream, never a short "complete" one.
            LogStreamFailed(http.RequestServices.GetRequiredService<ILogger<OutcomeStreamResult>>(), batch.Id, ex);
            http.Abort();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Results stream of batch {BatchId} broke off")]
    private static partial void LogStreamFailed(ILogger logger, string batchId, Exception exception);
}
