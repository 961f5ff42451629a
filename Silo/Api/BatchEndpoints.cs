using System.Buffers;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Client.Http;
using Floodgate.Grains.WarmUp;
using Floodgate.Silo.Security;
using Floodgate.Validation;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Floodgate.Silo.Api;

/// <summary>
/// <c>/api/batches</c>: submit (JSON, or NDJSON streamed in), list, progress, ordered results (NDJSON, streamed, from
/// any position), retry of failed items, cancel. Everything goes through
/// <see cref="IFloodgateClient"/>, so validation and ids are the SDK's, not a second copy.
/// </summary>
internal static class BatchEndpoints
{
    public static RouteGroupBuilder MapBatchEndpoints(this RouteGroupBuilder api)
    {
        var batches = api.MapGroup("/batches").RequireApiKey(ApiRole.Client);
        batches.MapPost("", SubmitAsync)
            .WithSummary("Submit a batch: JSON with every item, or NDJSON (the settings without items on the first line, then one item per line, streamed in)")
            .DescribesBody<SubmitBatchRequest>("application/json", "application/x-ndjson")
            .Produces<BatchProgress>(StatusCodes.Status201Created).ProducesProblems(400, 409, 415);
        batches.MapGet("", ListAsync)
            .WithSummary("One page of the batches (submitted and not yet expired), newest first; optional state, limit and after (the previous page's next cursor)")
            .Produces<BatchListPage>().ProducesProblems(400);
        batches.MapGet("/{id}", GetProgressAsync)
            .WithSummary("A batch's progress; with afterVersion (and waitMs), a long poll for the next change")
            .Produces<BatchProgress>().ProducesProblems(400, 404);
        batches.MapGet("/{id}/results", ReadResultsAsync)
            .WithSummary("Outcomes in input order from position 'from' (default 0) as NDJSON, one {position, status, result, error, attempts} object per line, streamed as the completed prefix grows")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson").ProducesProblems(400, 404);
        batches.MapPost("/{id}/retry", RetryAsync)
            .WithSummary("Run the failed items of a finished batch again, in place (409 when it is running, was cancelled or has no failed item)")
            .Produces<BatchProgress>(StatusCodes.Status202Accepted).ProducesProblems(400, 404, 409);
        batches.MapDelete("/{id}", CancelAsync)
            .WithSummary("Cancel a batch").Produces<BatchProgress>(StatusCodes.Status202Accepted).ProducesProblems(400, 404);
        return api;
    }

    // Batch ids are validated names (letters, digits and - _ . : @), all legal in a path segment as they are.
    public static string Location(string batchId) => $"/api/batches/{batchId}";

    /// <summary>
    /// A JSON body (<c>{"items": [...], ...}</c>) or an NDJSON one (the settings on the first line, then one item per line,
    /// streamed into the batch as it arrives, so its size is bounded by <c>Batches:MaxItems</c>, not by memory).
    /// </summary>
    private static async Task<IResult> SubmitAsync(HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken)
    {
        BatchHandle batch;
        if (NdjsonItemReader.IsNdjson(request))
        {
            // The items are streamed: Kestrel's body limit (for bodies read whole) does not apply.
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            var body = new NdjsonItemReader(request.BodyReader);
            var header = await body.ReadHeaderAsync<SubmitBatchRequest>(cancellationToken);
            batch = await floodgate.SubmitBatchAsync(header.ToDefinition(), body.ReadItemsAsync(cancellationToken), header.BatchId, cancellationToken);
        }
        else if (request.ContentType is not null && !request.HasJsonContentType())
        {
            throw new BadHttpRequestException(
                "The request body must be JSON or NDJSON: send 'Content-Type: application/json' (all items in one object) "
                + "or 'application/x-ndjson' (the settings on the first line, then one item per line).",
                StatusCodes.Status415UnsupportedMediaType);
        }
        else
        {
            var body = await ApiJson.ReadAsync<SubmitBatchRequest>(request, required: true, cancellationToken);
            batch = await floodgate.SubmitBatchAsync(body!.ToSpec(), body.BatchId, cancellationToken);
        }

        var progress = batch.Submitted ?? await batch.GetProgressAsync(cancellationToken);
        return ApiJson.Created(request.HttpContext.Response, Location(batch.Id), progress);
    }

    /// <summary><c>GET /api/batches?state=running&amp;limit=50&amp;after=…</c>: one page, newest first.</summary>
    private static async Task<IResult> ListAsync(HttpRequest request, IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(await floodgate.ListBatchesAsync(BatchListRequest.Parse(request.Query), cancellationToken));

    /// <summary>
    /// The progress now, or, with <c>?afterVersion=N</c>, once its version is past N or the batch is finished, waiting at
    /// most <c>waitMs</c> (default 10 s; the silo caps it): a long poll, so watchers see each change without polling.
    /// </summary>
    private static async Task<IResult> GetProgressAsync(
        string id, HttpRequest request, IFloodgateClient floodgate, [FromServices] WarmUpPass warmUp, CancellationToken cancellationToken)
    {
        var batch = Batch(id, request, floodgate, warmUp);
        var wait = ProgressWait.Read(request.Query);
        return ApiJson.Ok(wait is { } w
            ? await batch.WaitForProgressAsync(w.AfterVersion, w.MaxWait, cancellationToken)
            : await batch.GetProgressAsync(cancellationToken));
    }

    /// <summary><c>GET /api/batches/{id}/results[?from=N]</c>: the outcomes from position N (default 0) on, in input order.</summary>
    private static async Task<IResult> ReadResultsAsync(
        string id, HttpRequest request, IFloodgateClient floodgate, [FromServices] WarmUpPass warmUp, CancellationToken cancellationToken)
    {
        var query = new ApiQuery(request.Query);
        var from = query.Int32("from", min: 0) ?? 0;
        query.ThrowIfInvalid();
        var batch = Batch(id, request, floodgate, warmUp);

        // An unknown batch (or a position past its end) must be a problem, which is impossible once the stream's 200 is on the wire.
        var progress = await batch.GetProgressAsync(cancellationToken);
        if (!progress.IsReceiving && from > progress.Total)
        {
            throw new FloodgateValidationException($"Position must be between 0 and {progress.Total} (got {from}).");
        }

        return new OutcomeStreamResult(batch, from);
    }

    /// <summary>
    /// The batch <paramref name="id"/> names. A reserved (warm-up) id is refused like any bad id, except to the silo's own
    /// warm-up reading its batch back (<see cref="WarmUpPass"/>).
    /// </summary>
    private static BatchHandle Batch(string id, HttpRequest request, IFloodgateClient floodgate, WarmUpPass warmUp) =>
        warmUp.Batch(id, request.Headers[WarmUpPass.Header]) ?? floodgate.GetBatch(id);

    private static async Task<IResult> RetryAsync(string id, IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(await floodgate.GetBatch(id).RetryFailedAsync(cancellationToken), StatusCodes.Status202Accepted);

    private static async Task<IResult> CancelAsync(string id, IFloodgateClient floodgate, CancellationToken cancellationToken) =>
        ApiJson.Ok(await floodgate.GetBatch(id).CancelAsync(cancellationToken), StatusCodes.Status202Accepted);
}

/// <summary>The query of <c>GET /api/batches</c>: <c>state</c>, <c>limit</c> and <c>after</c>, each optional; a bad one is a 400.</summary>
internal static class BatchListRequest
{
    public static BatchListQuery Parse(IQueryCollection query)
    {
        var reader = new ApiQuery(query);
        BatchState? state = null;
        if (reader.Text("state") is { } stateText)
        {
            var names = Enum.GetNames<BatchState>().Select(ApiJson.Options.PropertyNamingPolicy!.ConvertName).ToList();
            var index = names.IndexOf(stateText);
            if (index < 0)
            {
                reader.AddError($"Query 'state' must be one of {string.Join(", ", names)} (got '{ApiQuery.Echo(stateText)}').");
            }
            else
            {
                state = Enum.GetValues<BatchState>()[index];
            }
        }

        var limit = reader.Int32("limit", min: 1);
        var result = new BatchListQuery(state, limit ?? BatchListQuery.DefaultLimit, reader.Text("after"));
        foreach (var error in result.Validate())
        {
            reader.AddError(error);
        }

        reader.ThrowIfInvalid();
        return result;
    }
}

/// <summary>
/// Streams a batch's outcomes as NDJSON (one <see cref="OutcomeJson"/> line per item, input order) as the completed
/// prefix grows. Flushes whenever the next outcome is not ready yet (the end of a page), so readers see results while
/// the batch runs; stops when the caller disconnects.
/// </summary>
internal sealed partial class OutcomeStreamResult(BatchHandle batch, int fromPosition) : IResult
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
            await using var outcomes = batch.ReadResultsAsync(fromPosition, cancellationToken).GetAsyncEnumerator(cancellationToken);
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
