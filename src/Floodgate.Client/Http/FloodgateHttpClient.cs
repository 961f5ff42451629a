using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Client.Http;

/// <summary>
/// <see cref="IFloodgateOperations"/> over a silo's HTTP API: for callers outside the cluster network, who reach only the
/// silos' HTTP port and authenticate with an API key. Input is checked here exactly as the Orleans SDK checks it, so
/// bad input never leaves the process; the silo's answers map to the SDK's exceptions (400 →
/// <see cref="FloodgateValidationException"/>, 404 → <see cref="FloodgateNotFoundException"/>, 409 →
/// <see cref="FloodgateConflictException"/>, 401/403 →
/// <see cref="FloodgateAccessDeniedException"/>, others → <see cref="FloodgateHttpException"/>). Trace context flows in the
/// standard <c>traceparent</c> header (HttpClient adds it).
/// </summary>
public sealed class FloodgateHttpClient : IFloodgateOperations
{
    private readonly HttpClient _http;
    private readonly FloodgateHttpClientOptions _options;
    private readonly Uri _baseAddress;
    private readonly TimeProvider _time;

    /// <summary>
    /// Creates the client over <paramref name="http"/> (which it does not dispose). The silo's address is
    /// <see cref="FloodgateHttpClientOptions.BaseAddress"/>, else the HttpClient's. Invalid options throw
    /// <see cref="FloodgateValidationException"/>.
    /// </summary>
    public FloodgateHttpClient(HttpClient http, FloodgateHttpClientOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _options = options ?? new FloodgateHttpClientOptions();
        _time = time ?? TimeProvider.System;
        var errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        _baseAddress = _options.BaseAddress ?? http.BaseAddress
            ?? throw new FloodgateValidationException("The Floodgate URL is required (FloodgateHttpClientOptions.BaseAddress).");
    }

    /// <inheritdoc />
    public async Task<BatchHandle> SubmitBatchAsync(BatchSpec spec, string? batchId = null, CancellationToken cancellationToken = default)
    {
        var errors = BatchSpecValidator.Validate(spec, batchId);
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        var progress = await SendAsync<BatchProgress>(HttpMethod.Post, "api/batches", SubmitBatchRequest.From(spec, batchId), notFound: null, cancellationToken);
        return Handle(progress.BatchId, progress);
    }

    /// <inheritdoc />
    public async Task<BatchHandle> SubmitBatchAsync(BatchDefinition definition, IAsyncEnumerable<string> items, string? batchId = null, CancellationToken cancellationToken = default)
    {
        var errors = BatchSpecValidator.Validate(definition, items, batchId);
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        // NDJSON, streamed as the items are read: the silo takes them into the batch in chunks while they arrive.
        using var content = new NdjsonSubmissionContent(SubmitBatchRequest.From(definition.ToDefinition(), batchId), items, cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await SendRawAsync(HttpMethod.Post, "api/batches", content, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (Exception) when (content.Failure is { } failure)
        {
            // The body stopped on the caller's side (a bad item, the source failed): that is the error, not the broken request.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            throw;
        }

        using (response)
        {
            await EnsureSuccessAsync(response, notFound: null, cancellationToken);
            var progress = await response.Content.ReadFromJsonAsync<BatchProgress>(FloodgateJson.Options, cancellationToken)
                ?? throw new FloodgateHttpException(response.StatusCode, "The silo answered POST /api/batches with an empty body.");
            return Handle(progress.BatchId, progress);
        }
    }

    /// <inheritdoc />
    public BatchHandle GetBatch(string batchId) => Handle(Names.RequireUnreserved("Batch id", batchId), initial: null);

    /// <inheritdoc />
    public Task<BatchListPage> ListBatchesAsync(BatchListQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new BatchListQuery();
        var errors = query.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        var parameters = new List<string> { string.Create(CultureInfo.InvariantCulture, $"limit={query.Limit}") };
        if (query.State is { } state)
        {
            parameters.Add($"state={JsonNamingPolicy.CamelCase.ConvertName(state.ToString())}");
        }

        if (query.After is { } after)
        {
            parameters.Add($"after={Uri.EscapeDataString(after)}");
        }

        return SendAsync<BatchListPage>(HttpMethod.Get, "api/batches?" + string.Join('&', parameters), body: null, notFound: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task<LimiterStatus> GetLimiterStatusAsync(string limiter, CancellationToken cancellationToken = default) =>
        SendAsync<LimiterStatus>(HttpMethod.Get, LimiterPath(limiter), body: null, notFound: null, cancellationToken);

    /// <inheritdoc />
    public Task<LimiterStatus> SetLimitsAsync(string limiter, LimiterLimits limits, CancellationToken cancellationToken = default)
    {
        var path = LimiterPath(limiter);
        LimiterLimitsValidator.ThrowIfInvalid(limits);
        return SendAsync<LimiterStatus>(HttpMethod.Put, path, SetLimitsRequest.From(limits), notFound: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task<CircuitStatus> GetBreakerStatusAsync(string breaker, CancellationToken cancellationToken = default) =>
        SendAsync<CircuitStatus>(HttpMethod.Get, $"api/breakers/{Names.RequireUnreserved("Breaker name", breaker)}", body: null, notFound: null, cancellationToken);

    /// <summary>Sends one request and reads a JSON answer; every failure status becomes the SDK's exception.</summary>
    internal async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, Func<Exception>? notFound, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, body, HttpCompletionOption.ResponseContentRead, cancellationToken);
        await EnsureSuccessAsync(response, notFound, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(FloodgateJson.Options, cancellationToken)
            ?? throw new FloodgateHttpException(response.StatusCode, $"The silo answered {method} /{path} with an empty body.");
    }

    /// <summary>Sends one request; the caller owns the response.</summary>
    internal async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_baseAddress, path));
        request.Content = body switch
        {
            null => null,
            HttpContent content => content,
            _ => JsonContent.Create(body, body.GetType(), options: FloodgateJson.Options),
        };

        if (_options.ApiKey is { } key)
        {
            request.Headers.TryAddWithoutValidation(FloodgateHttpClientOptions.ApiKeyHeader, key);
        }

        return await _http.SendAsync(request, completion, cancellationToken);
    }

    /// <summary>Throws the SDK's exception for a failure status, with the silo's problem text as the message.</summary>
    internal static async Task EnsureSuccessAsync(HttpResponseMessage response, Func<Exception>? notFound, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var errors = await ProblemErrorsAsync(response, cancellationToken);
        var message = errors.Count > 0 ? string.Join(" ", errors) : $"The silo answered {(int)response.StatusCode} {response.ReasonPhrase}.";
        throw response.StatusCode switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.UnsupportedMediaType =>
                new FloodgateValidationException(errors.Count > 0 ? errors : [message]),
            HttpStatusCode.NotFound when notFound is not null => notFound(),
            HttpStatusCode.Conflict => new FloodgateConflictException(message),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new FloodgateAccessDeniedException(response.StatusCode, message),
            _ => new FloodgateHttpException(response.StatusCode, message, response.Headers.RetryAfter?.Delta),
        };
    }

    /// <summary>The <c>errors</c> of a problem+json body (or its <c>detail</c>); empty when the body is not one.</summary>
    private static async Task<IReadOnlyList<string>> ProblemErrorsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = problem.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return [];
            }

            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                return errors.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList();
            }

            return root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String ? [detail.GetString()!] : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private BatchHandle Handle(string batchId, BatchProgress? initial) =>
        new(batchId, new HttpBatchChannel(this, batchId), _options.WatchInterval, _options.PollWait, _time, initial);

    private static string LimiterPath(string limiter) => $"api/limiters/{Names.RequireUnreserved("Limiter name", limiter)}";

    /// <summary>The query of a long poll for progress.</summary>
    internal static string WaitQuery(long afterVersion, TimeSpan maxWait) =>
        string.Create(CultureInfo.InvariantCulture, $"?afterVersion={afterVersion}&waitMs={(long)Math.Ceiling(Math.Max(0, maxWait.TotalMilliseconds))}");
}
