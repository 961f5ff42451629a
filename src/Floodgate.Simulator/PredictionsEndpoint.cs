using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floodgate.Simulator;

/// <summary>
/// A Replicate-style predictions API: <c>POST /v1/models/{owner}/{name}/predictions</c> (or <c>POST /v1/predictions</c>
/// with a <c>version</c>) creates a prediction that runs for the simulated latency, <c>GET /v1/predictions/{id}</c>
/// polls it, <c>POST /v1/predictions/{id}/cancel</c> cancels it.
/// </summary>
/// <remarks>
/// A running prediction is what the account's concurrency counts: it is in flight (<c>MaxConcurrent</c>) from its
/// creation until it succeeds, fails or is cancelled; creating one also takes a requests-per-minute slot. Polls are free.
/// Fault triggers in the input's <c>prompt</c> (<c>[fail:NNN]</c>, <c>[fail-first:K:NNN]</c> keyed by
/// <c>Idempotency-Key</c>) fail the create call; <c>[prediction-fail]</c> makes the prediction itself end <c>failed</c>.
/// </remarks>
internal sealed class PredictionsEndpoint(SimulatorState state, ChatCompletionsEndpoint chat, IHostApplicationLifetime lifetime)
{
    /// <summary>Text in the prompt that makes the prediction end with status <c>failed</c>.</summary>
    public const string PredictionFailTrigger = "[prediction-fail]";

    private readonly ConcurrentDictionary<string, Prediction> _predictions = new(StringComparer.Ordinal);

    /// <summary>Handles prediction creation.</summary>
    public async Task HandleCreateAsync(HttpContext context)
    {
        if (!chat.Authorizes(context))
        {
            state.RecordUnauthorized();
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "You did not pass a valid authentication token");
            return;
        }

        int inFlight = state.EnterRequest();
        Prediction? started = null;
        try
        {
            started = await CreateAsync(context, inFlight);
        }
        finally
        {
            if (started is null)
            {
                state.ExitRequest();
            }
        }
    }

    /// <summary>Handles a status poll.</summary>
    public async Task HandleGetAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } prediction)
        {
            return;
        }

        await context.Response.WriteAsJsonAsync(prediction.ToJson(context), ChatCompletionsEndpoint.SnakeCaseJson);
    }

    /// <summary>Handles a cancellation.</summary>
    public async Task HandleCancelAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } prediction)
        {
            return;
        }

        if (prediction.TryFinish("canceled", null))
        {
            state.ExitRequest();
        }

        await context.Response.WriteAsJsonAsync(prediction.ToJson(context), ChatCompletionsEndpoint.SnakeCaseJson);
    }

    /// <summary>The prediction the route names, for an authorized caller; otherwise answers 401 or 404 and returns null.</summary>
    private async Task<Prediction?> FindAsync(HttpContext context)
    {
        if (!chat.Authorizes(context))
        {
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "You did not pass a valid authentication token");
            return null;
        }

        if (!_predictions.TryGetValue((string)context.GetRouteValue("id")!, out var prediction))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "Not found.");
            return null;
        }

        return prediction;
    }

    /// <summary>The number of predictions created that are still running (for tests).</summary>
    public int Running => _predictions.Values.Count(p => !p.IsFinal);

    private async Task<Prediction?> CreateAsync(HttpContext context, int inFlight)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body?["input"] is not JsonObject input)
        {
            state.RecordOutcome(StatusCodes.Status422UnprocessableEntity);
            await WriteErrorAsync(context, StatusCodes.Status422UnprocessableEntity, "The body must be a JSON object with an 'input' object.");
            return null;
        }

        string prompt = input["prompt"] is JsonValue p && p.TryGetValue<string>(out var text) ? text : input.ToJsonString();
        if (!ChatRequestParser.TryParseFault(prompt, out FaultTrigger? fault, out string? error))
        {
            state.RecordOutcome(StatusCodes.Status422UnprocessableEntity);
            await WriteErrorAsync(context, StatusCodes.Status422UnprocessableEntity, error);
            return null;
        }

        SimulatorOptions options = state.Options;
        if ((options.MaxConcurrency > 0 && inFlight > options.MaxConcurrency) || !state.TryAcquireRateSlot())
        {
            state.RecordOutcome(StatusCodes.Status429TooManyRequests);
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "Request was throttled.");
            return null;
        }

        if (fault is not null && chat.ShouldFail(fault, context.Request.Headers, prompt))
        {
            state.RecordOutcome(fault.StatusCode);
            if (fault.StatusCode == StatusCodes.Status429TooManyRequests)
            {
                context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            await WriteErrorAsync(context, fault.StatusCode, "Simulated failure requested by a fault trigger.");
            return null;
        }

        string model = context.GetRouteValue("owner") is string owner ? $"{owner}/{context.GetRouteValue("name")}" : "simulated/model";
        string id = "pred-sim-" + state.NextResponseId().ToString(CultureInfo.InvariantCulture);
        var prediction = new Prediction(id, model, body["version"]?.ToString(), input.DeepClone().AsObject(), state.TimeProvider.GetUtcNow());
        _predictions[id] = prediction;
        _ = RunAsync(prediction, prompt);

        state.RecordOutcome(StatusCodes.Status201Created);
        context.Response.StatusCode = StatusCodes.Status201Created;
        await context.Response.WriteAsJsonAsync(prediction.ToJson(context), ChatCompletionsEndpoint.SnakeCaseJson);
        return prediction;
    }

    private async Task RunAsync(Prediction prediction, string prompt)
    {
        prediction.Status = "processing";
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(state.NextLatencyMs()), state.TimeProvider, lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the prediction ends failed below.
        }

        bool failed = prompt.Contains(PredictionFailTrigger, StringComparison.Ordinal) || lifetime.ApplicationStopping.IsCancellationRequested;
        bool finished = failed
            ? prediction.TryFinish("failed", null)
            : prediction.TryFinish("succeeded", JsonValue.Create("Simulated output for: " + prompt));
        if (finished)
        {
            state.ExitRequest();
        }
    }

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string detail)
    {
        context.Response.StatusCode = statusCode;
        return context.Response.WriteAsJsonAsync(new { detail, status = statusCode });
    }

    private sealed class Prediction(string id, string model, string? version, JsonObject input, DateTimeOffset createdAt)
    {
        private readonly Lock _gate = new();
        private JsonNode? _output;
        private string? _error;

        public string Status { get; set; } = "starting";

        public bool IsFinal => Status is "succeeded" or "failed" or "canceled";

        /// <summary>Moves to a final status once; false when it already was final.</summary>
        public bool TryFinish(string status, JsonNode? output)
        {
            lock (_gate)
            {
                if (IsFinal)
                {
                    return false;
                }

                _output = output;
                _error = status == "failed" ? "Simulated prediction failure." : null;
                Status = status;
                return true;
            }
        }

        public JsonObject ToJson(HttpContext context)
        {
            lock (_gate)
            {
                string self = $"{context.Request.Scheme}://{context.Request.Host}/v1/predictions/{id}";
                return new JsonObject
                {
                    ["id"] = id,
                    ["model"] = model,
                    ["version"] = version,
                    ["input"] = input.DeepClone(),
                    ["status"] = Status,
                    ["output"] = _output?.DeepClone(),
                    ["error"] = _error,
                    ["created_at"] = createdAt.ToString("O", CultureInfo.InvariantCulture),
                    ["urls"] = new JsonObject { ["get"] = self, ["cancel"] = self + "/cancel" },
                };
            }
        }
    }
}
