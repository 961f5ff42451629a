using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floodgate.Gateway.Admission;

/// <summary>What the gateway needs to know of an OpenAI request body before forwarding it.</summary>
/// <param name="Model">The model asked for; null when the body names none.</param>
/// <param name="Stream">True for <c>stream: true</c> (server-sent events).</param>
/// <param name="EstimatedTokens">Prompt size plus the completion's upper bound, in tokens (about four characters each).</param>
/// <param name="Body">The body to forward (a streamed chat gets <c>stream_options.include_usage</c> so it reports its usage).</param>
/// <param name="Deterministic">
/// True when identical requests get identical answers, so one answer may serve them all (the gateway cache): embeddings
/// always; a completion or chat only without <c>stream: true</c>, with <c>temperature</c> set to 0 (absent means the
/// provider's default of 1) and <c>n</c> absent or 1.
/// </param>
internal sealed record OpenAiRequest(string? Model, bool Stream, int EstimatedTokens, byte[] Body, bool Deterministic = false)
{
    /// <summary>Characters per token in the estimate (OpenAI's rule of thumb for English).</summary>
    private const int CharactersPerToken = 4;

    /// <summary>Per-message overhead of the chat format, in tokens.</summary>
    private const int TokensPerMessage = 4;

    /// <summary>Parses <paramref name="body"/> of a request to <paramref name="endpoint"/>; a message for a 400 when it is unusable.</summary>
    public static OpenAiRequest Parse(OpenAiEndpoint endpoint, byte[] body, int defaultMaxTokens, out string? error)
    {
        error = null;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            error = "The request body is not valid JSON.";
            return Empty(body);
        }

        if (root is not JsonObject request)
        {
            error = "The request body must be a JSON object.";
            return Empty(body);
        }

        var model = request["model"] is JsonValue m && m.TryGetValue<string>(out var name) ? name : null;
        var stream = request["stream"] is JsonValue s && s.TryGetValue<bool>(out var streaming) && streaming;
        var choices = request["n"] is JsonValue n && n.TryGetValue<int>(out var count) && count > 1 ? count : 1;
        var maxTokens = Integer(request["max_completion_tokens"]) ?? Integer(request["max_tokens"]) ?? defaultMaxTokens;
        long prompt = endpoint switch
        {
            OpenAiEndpoint.ChatCompletions => Messages(request["messages"]),
            OpenAiEndpoint.Completions => Characters(request["prompt"]) / CharactersPerToken,
            OpenAiEndpoint.Embeddings => Characters(request["input"]) / CharactersPerToken,
            _ => 0,
        };
        long completion = endpoint == OpenAiEndpoint.Embeddings ? 0 : (long)maxTokens * choices;
        var estimate = (int)Math.Min(int.MaxValue, prompt + completion);
        var deterministic = endpoint switch
        {
            OpenAiEndpoint.Embeddings => true,
            OpenAiEndpoint.ChatCompletions or OpenAiEndpoint.Completions =>
                !stream
                && request["temperature"] is JsonValue t && t.TryGetValue<double>(out var temperature) && temperature == 0
                && (request["n"] is null || (request["n"] is JsonValue one && one.TryGetValue<int>(out var single) && single == 1)),
            _ => false,
        };

        if (stream && endpoint is OpenAiEndpoint.ChatCompletions or OpenAiEndpoint.Completions && request["stream_options"] is null)
        {
            // Without it a stream never reports its usage, and the token budget could only keep the estimate.
            request["stream_options"] = new JsonObject { ["include_usage"] = true };
            body = JsonSerializer.SerializeToUtf8Bytes(request);
        }

        return new OpenAiRequest(model, stream, estimate, body, deterministic);
    }

    private static OpenAiRequest Empty(byte[] body) => new(null, false, 0, body);

    private static int? Integer(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var value) && value >= 0 ? value : null;

    private static long Messages(JsonNode? messages)
    {
        if (messages is not JsonArray list)
        {
            return 0;
        }

        long tokens = 0;
        foreach (var message in list)
        {
            tokens += TokensPerMessage + (Characters(message?["content"]) / CharactersPerToken);
        }

        return tokens;
    }

    /// <summary>Characters of text in a string, an array of strings or content parts, or token arrays (4 per token).</summary>
    private static long Characters(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var text) => text.Length,
        JsonValue v when v.TryGetValue<long>(out _) => CharactersPerToken,
        JsonArray array => array.Sum(Characters),
        JsonObject part => Characters(part["text"]),
        _ => 0,
    };
}

/// <summary>The OpenAI endpoints the gateway serves.</summary>
internal enum OpenAiEndpoint
{
    ChatCompletions,
    Completions,
    Embeddings,
    Models,
}
