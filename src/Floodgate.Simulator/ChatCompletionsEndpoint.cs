using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace Floodgate.Simulator;

/// <summary>
/// <c>POST /v1/chat/completions</c>: an OpenAI-compatible chat endpoint that enforces the account limits.
/// </summary>
/// <remarks>
/// Order of processing:
/// <list type="number">
/// <item>API key check when <see cref="SimulatorOptions.ApiKey"/> is set (<c>401</c>; not counted as in flight).</item>
/// <item>The request becomes in flight (counted in <c>TotalRequests</c> and <c>MaxConcurrent</c>).</item>
/// <item>Body validation (<c>400</c>).</item>
/// <item>Concurrency limit, then requests-per-minute limit (<c>429</c> with <c>Retry-After</c>).</item>
/// <item>Simulated latency (<c>LatencyMs</c> + jitter), cancelled if the client aborts.</item>
/// <item>Fault triggers in the last user message, then <c>ErrorRate</c> (<c>500</c>), else <c>200</c>.</item>
/// </list>
/// The request stops being in flight just before its response is written, so a client that sends its next
/// request as soon as it receives a response is never seen overlapping with itself.
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

    public async Task HandleAsync(HttpContext context)
    {
        if (_apiKey is not null && !IsAuthorized(context.Request.Headers.Authorization))
        {
            _state.RecordUnauthorized();
            await WriteAsync(context, Error(
                StatusCodes.Status401Unauthorized,
                "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.",
                InvalidRequestType,
                "invalid_api_key"));
            return;
        }

        int inFlight = _state.EnterRequest();
        bool exited = false;
        try
        {
            Outcome? outcome = await ProcessAsync(context, inFlight);
            if (outcome is null)
            {
                return; // The client went away; nothing to answer.
            }

            _state.RecordOutcome(outcome.StatusCode);
            _state.ExitRequest();
            exited = true;
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

    private async Task<Outcome?> ProcessAsync(HttpContext context, int inFlight)
    {
        SimulatorOptions options = _state.Options;
        CancellationToken aborted = context.RequestAborted;

        ChatRequest request;
        try
        {
            using JsonDocument document = await JsonDocument.ParseAsync(context.Request.Body, default, aborted);
            if (!ChatRequestParser.TryParse(document.RootElement, out ChatRequest? parsed, out string? error))
            {
                return Error(StatusCodes.Status400BadRequest, error, InvalidRequestType);
            }

            request = parsed;
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

        return new Outcome(StatusCodes.Status200OK, BuildCompletion(request), RetryAfter: false);
    }

    private bool ShouldFail(FaultTrigger fault, IHeaderDictionary headers, string prompt)
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

internal sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, ChatUsage Usage);

internal sealed record ChatChoice(int Index, ChatMessage Message, string FinishReason);

internal sealed record ChatMessage(string Role, string Content);

internal sealed record ChatUsage(int PromptTokens, int CompletionTokens, int TotalTokens);

internal sealed record ErrorResponse(ErrorDetail Error);

internal sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);
