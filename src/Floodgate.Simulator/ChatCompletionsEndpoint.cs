using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace Floodgate.Simulator;

/// <summary>
/// The account's model endpoints — <c>POST /v1/chat/completions</c> (also streamed as server-sent events),
/// <c>POST /v1/completions</c> and <c>POST /v1/embeddings</c> — OpenAI-compatible, enforcing the account limits
/// (concurrency, requests and tokens per minute) the same way for all three.
/// </summary>
/// <remarks>
/// Order of processing:
/// <list type="number">
/// <item>API key check when <see cref="SimulatorOptions.ApiKey"/> is set (<c>401</c>; not counted as in flight).</item>
/// <item>The request becomes in flight (counted in <c>TotalRequests</c> and <c>MaxConcurrent</c>).</item>
/// <item>Body validation (<c>400</c>).</item>
/// <item>Concurrency limit, then requests-per-minute limit, then tokens-per-minute limit (<c>429</c> with <c>Retry-After</c>).</item>
/// <item>Simulated latency (<c>LatencyMs</c> + jitter), cancelled if the client aborts.</item>
/// <item>Fault triggers in the last user message, then <c>ErrorRate</c> (<c>500</c>), else <c>200</c>.</item>
/// </list>
/// The request stops being in flight just before its response is written (for a stream: just before its final
/// <c>[DONE]</c> event), so a client that sends its next request as soon as it receives a response is never seen
/// overlapping with itself.
/// </remarks>
internal sealed class ChatCompletionsEndpoint
{
    /// <summary>Request header whose value keys <c>[fail-first:K:NNN]</c> attempts.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    internal static readonly JsonSerializerOptions SnakeCaseJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,

        // Keep quotes and angle brackets readable in messages; the body is always served as application/json.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private const string InvalidRequestType = "invalid_request_error";
    private const string RateLimitType = "rate_limit_exceeded";
    private const string ServerErrorType = "server_error";

    private readonly SimulatorState _state;
    private readonly CancellationToken _stopping;
    private readonly byte[]? _apiKey;

    public ChatCompletionsEndpoint(SimulatorState state, IHostApplicationLifetime lifetime)
    {
        _state = state;
        _stopping = lifetime.ApplicationStopping;
        _apiKey = state.Options.RequiresApiKey ? Encoding.UTF8.GetBytes(state.Options.ApiKey!) : null;
    }

    /// <summary>Handles <c>POST /v1/chat/completions</c>.</summary>
    public Task HandleAsync(HttpContext context) => HandleAsync(context, SimulatedOperation.Chat);

    /// <summary>Handles <c>POST /v1/completions</c>.</summary>
    public Task HandleCompletionsAsync(HttpContext context) => HandleAsync(context, SimulatedOperation.Completion);

    /// <summary>Handles <c>POST /v1/embeddings</c>.</summary>
    public Task HandleEmbeddingsAsync(HttpContext context) => HandleAsync(context, SimulatedOperation.Embeddings);

    /// <summary>Handles <c>GET /v1/models</c>: the one simulated model (not counted as a request).</summary>
    public async Task HandleModelsAsync(HttpContext context)
    {
        if (_apiKey is not null && !IsAuthorized(context.Request.Headers.Authorization))
        {
            _state.RecordUnauthorized();
            await WriteAsync(context, Unauthorized());
            return;
        }

        await context.Response.WriteAsJsonAsync(
            new ModelList("list", [new ModelEntry(ChatRequestParser.DefaultModel, "model", 0, "floodgate-simulator")]), SnakeCaseJson);
    }

    private async Task HandleAsync(HttpContext context, SimulatedOperation operation)
    {
        if (_apiKey is not null && !IsAuthorized(context.Request.Headers.Authorization))
        {
            _state.RecordUnauthorized();
            await WriteAsync(context, Unauthorized());
            return;
        }

        int inFlight = _state.EnterRequest();
        bool exited = false;
        void Exit()
        {
            if (!exited)
            {
                exited = true;
                _state.ExitRequest();
            }
        }

        try
        {
            Outcome? outcome = await ProcessAsync(context, inFlight, operation);
            if (outcome is null)
            {
                return; // The client went away; nothing to answer.
            }

            _state.RecordOutcome(outcome.StatusCode);
            if (outcome.Body is ChatRequest streamed)
            {
                await StreamAsync(context, streamed, Exit);
                return;
            }

            Exit();
            await WriteAsync(context, outcome);
        }
        finally
        {
            if (!exited)
            {
                _state.ExitRequest();
            }
        }
    }

    private async Task<Outcome?> ProcessAsync(HttpContext context, int inFlight, SimulatedOperation operation)
    {
        SimulatorOptions options = _state.Options;
        CancellationToken aborted = context.RequestAborted;

        SimulatedCall request;
        try
        {
            using JsonDocument document = await JsonDocument.ParseAsync(context.Request.Body, default, aborted);
            string? error;
            bool parsed = operation switch
            {
                SimulatedOperation.Chat => Wrap(ChatRequestParser.TryParse(document.RootElement, out ChatRequest? chat, out error), chat, out request),
                SimulatedOperation.Completion => Wrap(ChatRequestParser.TryParseCompletion(document.RootElement, out ChatRequest? completion, out error), completion, out request),
                _ => Wrap(ChatRequestParser.TryParseEmbeddings(document.RootElement, out EmbeddingsRequest? embeddings, out error), embeddings, out request),
            };
            if (!parsed)
            {
                return Error(StatusCodes.Status400BadRequest, error!, InvalidRequestType);
            }
        }
        catch (JsonException)
        {
            return Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON.", InvalidRequestType);
        }
        catch (BadHttpRequestException ex)
        {
            return Error(ex.StatusCode, "The request body could not be read.", InvalidRequestType);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            return null;
        }

        // Per-model in-flight count: lets tests see nested (account + model) limits from the outside.
        using var modelScope = _state.EnterModel(request.Model);

        if (options.MaxConcurrency > 0 && inFlight > options.MaxConcurrency)
        {
            return RateLimited(string.Create(
                CultureInfo.InvariantCulture,
                $"Rate limit reached: the account concurrency limit of {options.MaxConcurrency} in-flight requests is exceeded. Retry after {options.RetryAfterSeconds} s."));
        }

        if (!_state.TryAcquireRateSlot())
        {
            return RateLimited(string.Create(
                CultureInfo.InvariantCulture,
                $"Rate limit reached: the account limit of {options.RequestsPerMinute} requests per minute is exceeded. Retry after {options.RetryAfterSeconds} s."));
        }

        if (!_state.TryAcquireTokens(request.Tokens, out TimeSpan tokensResetIn))
        {
            context.Response.Headers["x-ratelimit-remaining-tokens"] = "0";
            context.Response.Headers["x-ratelimit-reset-tokens"] = string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(tokensResetIn.TotalSeconds)}s");
            return RateLimited(string.Create(
                CultureInfo.InvariantCulture,
                $"Rate limit reached: the account limit of {options.TokensPerMinute} tokens per minute is exceeded (requested {request.Tokens}). Retry after {options.RetryAfterSeconds} s."));
        }

        long latencyMs = _state.NextLatencyMs();
        if (latencyMs > 0)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted, _stopping);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(latencyMs), _state.TimeProvider, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                return aborted.IsCancellationRequested
                    ? null
                    : Error(StatusCodes.Status503ServiceUnavailable, "The simulator is shutting down.", ServerErrorType);
            }
        }

        if (request.Fault is { } fault && ShouldFail(fault, context.Request.Headers, request.Prompt))
        {
            return FaultOutcome(fault.StatusCode);
        }

        if (_state.NextIsRandomError())
        {
            return Error(StatusCodes.Status500InternalServerError, "Simulated server error (ErrorRate).", ServerErrorType);
        }

        return request.Request switch
        {
            ChatRequest { Stream: true } streamed => new Outcome(StatusCodes.Status200OK, streamed, RetryAfter: false),
            ChatRequest chat when operation == SimulatedOperation.Completion => new Outcome(StatusCodes.Status200OK, BuildTextCompletion(chat), RetryAfter: false),
            ChatRequest chat => new Outcome(StatusCodes.Status200OK, BuildCompletion(chat), RetryAfter: false),
            EmbeddingsRequest embeddings => new Outcome(StatusCodes.Status200OK, BuildEmbeddings(embeddings), RetryAfter: false),
            _ => throw new InvalidOperationException("Unknown simulated request."),
        };
    }

    private static bool Wrap(bool parsed, ChatRequest? request, out SimulatedCall call)
    {
        call = parsed ? new SimulatedCall(request!, request!.Model, request.Prompt, request.Fault, request.PromptTokens + CompletionTokens(request)) : null!;
        return parsed;
    }

    private static bool Wrap(bool parsed, EmbeddingsRequest? request, out SimulatedCall call)
    {
        call = parsed ? new SimulatedCall(request!, request!.Model, string.Join('\n', request.Inputs), request.Fault, request.PromptTokens) : null!;
        return parsed;
    }

    private static string Answer(ChatRequest request) => "Simulated answer to: " + request.Prompt;

    private static int CompletionTokens(ChatRequest request) => ChatRequestParser.CountWords(Answer(request));

    /// <summary>
    /// Streams the answer word by word as <c>chat.completion.chunk</c> events (<see cref="SimulatorOptions.StreamChunkDelayMs"/>
    /// apart), then a usage chunk when asked for, then <c>[DONE]</c>. The request stays in flight until just before
    /// <c>[DONE]</c>; a client that goes away ends it at once.
    /// </summary>
    private async Task StreamAsync(HttpContext context, ChatRequest request, Action exit)
    {
        HttpResponse response = context.Response;
        CancellationToken aborted = context.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        string id = "chatcmpl-sim-" + _state.NextResponseId().ToString(CultureInfo.InvariantCulture);
        long created = _state.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        string[] words = Answer(request).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            await WriteEventAsync(response, new ChatChunk(id, "chat.completion.chunk", created, request.Model, [new ChunkChoice(0, new ChunkDelta("assistant", string.Empty), null)], null), aborted);
            for (int i = 0; i < words.Length; i++)
            {
                if (_state.Options.StreamChunkDelayMs > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(_state.Options.StreamChunkDelayMs), _state.TimeProvider, aborted);
                }

                string text = i == 0 ? words[i] : " " + words[i];
                await WriteEventAsync(response, new ChatChunk(id, "chat.completion.chunk", created, request.Model, [new ChunkChoice(0, new ChunkDelta(null, text), null)], null), aborted);
            }

            await WriteEventAsync(response, new ChatChunk(id, "chat.completion.chunk", created, request.Model, [new ChunkChoice(0, new ChunkDelta(null, null), "stop")], null), aborted);
            if (request.IncludeUsage)
            {
                int completion = words.Length;
                await WriteEventAsync(response, new ChatChunk(id, "chat.completion.chunk", created, request.Model, [], new ChatUsage(request.PromptTokens, completion, request.PromptTokens + completion)), aborted);
            }

            exit();
            await response.WriteAsync("data: [DONE]\n\n", aborted);
            await response.Body.FlushAsync(aborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The client went away mid-stream: the request ends here (the caller's finally leaves in-flight).
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, ChatChunk chunk, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(chunk, SnakeCaseJson);
        await response.Body.WriteAsync("data: "u8.ToArray(), cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private TextCompletionResponse BuildTextCompletion(ChatRequest request)
    {
        string text = Answer(request);
        int completionTokens = ChatRequestParser.CountWords(text);
        return new TextCompletionResponse(
            Id: "cmpl-sim-" + _state.NextResponseId().ToString(CultureInfo.InvariantCulture),
            Object: "text_completion",
            Created: _state.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
            Model: request.Model,
            Choices: [new TextChoice(text, 0, null, "stop")],
            Usage: new ChatUsage(request.PromptTokens, completionTokens, request.PromptTokens + completionTokens));
    }

    /// <summary>Deterministic unit vectors derived from each input's hash: equal inputs, equal embeddings.</summary>
    private static EmbeddingsResponse BuildEmbeddings(EmbeddingsRequest request)
    {
        var data = new List<EmbeddingEntry>(request.Inputs.Count);
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            float[] vector = new float[request.Dimensions];
            byte[] seed = SHA256.HashData(Encoding.UTF8.GetBytes(request.Inputs[i]));
            var random = new Random(BitConverter.ToInt32(seed, 0));
            double norm = 0;
            for (int d = 0; d < vector.Length; d++)
            {
                vector[d] = (float)((random.NextDouble() * 2) - 1);
                norm += vector[d] * vector[d];
            }

            for (int d = 0; d < vector.Length; d++)
            {
                vector[d] = (float)(vector[d] / Math.Sqrt(norm));
            }

            object embedding = request.Base64 ? Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())) : vector;
            data.Add(new EmbeddingEntry("embedding", i, embedding));
        }

        return new EmbeddingsResponse("list", data, request.Model, new EmbeddingsUsage(request.PromptTokens, request.PromptTokens));
    }

    internal bool ShouldFail(FaultTrigger fault, IHeaderDictionary headers, string prompt)
    {
        if (fault.FailFirst is not { } failFirst)
        {
            return true;
        }

        string? idempotencyKey = headers[IdempotencyKeyHeader];
        string key = string.IsNullOrEmpty(idempotencyKey) ? "prompt:" + prompt : "key:" + idempotencyKey;
        return _state.NextAttempt(key) <= failFirst;
    }

    private ChatCompletionResponse BuildCompletion(ChatRequest request)
    {
        string content = "Simulated answer to: " + request.Prompt;
        int completionTokens = ChatRequestParser.CountWords(content);
        return new ChatCompletionResponse(
            Id: "chatcmpl-sim-" + _state.NextResponseId().ToString(CultureInfo.InvariantCulture),
            Object: "chat.completion",
            Created: _state.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
            Model: request.Model,
            Choices: [new ChatChoice(0, new ChatMessage("assistant", content), "stop")],
            Usage: new ChatUsage(request.PromptTokens, completionTokens, request.PromptTokens + completionTokens));
    }

    /// <summary>True when the request may pass: no key is required, or it carries the account's key.</summary>
    internal bool Authorizes(HttpContext context) => _apiKey is null || IsAuthorized(context.Request.Headers.Authorization);

    private bool IsAuthorized(StringValues authorization)
    {
        const string Scheme = "Bearer ";
        if (authorization.Count != 1 || authorization[0] is not { } value
            || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] presented = Encoding.UTF8.GetBytes(value.AsSpan(Scheme.Length).Trim().ToString());
        return CryptographicOperations.FixedTimeEquals(presented, _apiKey);
    }

    private static Outcome Unauthorized() => Error(
        StatusCodes.Status401Unauthorized,
        "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.",
        InvalidRequestType,
        "invalid_api_key");

    private Outcome RateLimited(string message) =>
        new(StatusCodes.Status429TooManyRequests, ErrorBody(message, RateLimitType, "rate_limit_exceeded"), RetryAfter: true);

    private Outcome FaultOutcome(int statusCode)
    {
        if (statusCode == StatusCodes.Status429TooManyRequests)
        {
            return RateLimited("Rate limit reached (simulated by a fault trigger).");
        }

        string type = statusCode switch
        {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            >= 500 => ServerErrorType,
            _ => InvalidRequestType,
        };
        return Error(statusCode, string.Create(CultureInfo.InvariantCulture, $"Simulated failure (HTTP {statusCode}) requested by a fault trigger."), type, "simulated_failure");
    }

    private static Outcome Error(int statusCode, string message, string type, string? code = null) =>
        new(statusCode, ErrorBody(message, type, code), RetryAfter: false);

    private static ErrorResponse ErrorBody(string message, string type, string? code) =>
        new(new ErrorDetail(message, type, Param: null, code));

    private async Task WriteAsync(HttpContext context, Outcome outcome)
    {
        HttpResponse response = context.Response;
        response.StatusCode = outcome.StatusCode;
        if (outcome.RetryAfter)
        {
            response.Headers.RetryAfter = _state.Options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        await response.WriteAsJsonAsync(outcome.Body, outcome.Body.GetType(), SnakeCaseJson);
    }

    private sealed record Outcome(int StatusCode, object Body, bool RetryAfter);
}

/// <summary>The simulator's operations: they share the account's limits.</summary>
internal enum SimulatedOperation
{
    Chat,
    Completion,
    Embeddings,
}

/// <summary>A parsed request, with what the limits and fault triggers need.</summary>
internal sealed record SimulatedCall(object Request, string Model, string Prompt, FaultTrigger? Fault, int Tokens);

internal sealed record ChatChunk(string Id, string Object, long Created, string Model, IReadOnlyList<ChunkChoice> Choices, ChatUsage? Usage);

internal sealed record ChunkChoice(int Index, ChunkDelta Delta, string? FinishReason);

internal sealed record ChunkDelta(
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Content);

internal sealed record TextCompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<TextChoice> Choices, ChatUsage Usage);

internal sealed record TextChoice(string Text, int Index, object? Logprobs, string FinishReason);

internal sealed record EmbeddingsResponse(string Object, IReadOnlyList<EmbeddingEntry> Data, string Model, EmbeddingsUsage Usage);

internal sealed record EmbeddingEntry(string Object, int Index, object Embedding);

internal sealed record EmbeddingsUsage(int PromptTokens, int TotalTokens);

internal sealed record ModelList(string Object, IReadOnlyList<ModelEntry> Data);

internal sealed record ModelEntry(string Id, string Object, long Created, string OwnedBy);

internal sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, ChatUsage Usage);

internal sealed record ChatChoice(int Index, ChatMessage Message, string FinishReason);

internal sealed record ChatMessage(string Role, string Content);

internal sealed record ChatUsage(int PromptTokens, int CompletionTokens, int TotalTokens);

internal sealed record ErrorResponse(ErrorDetail Error);

internal sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);
