using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Floodgate.Simulator;

/// <summary>
/// A fault trigger found in the last user message.
/// <c>[fail:NNN]</c> has <see cref="FailFirst"/> <see langword="null"/> (always fail);
/// <c>[fail-first:K:NNN]</c> fails the first <see cref="FailFirst"/> attempts of a key.
/// </summary>
internal sealed record FaultTrigger(int StatusCode, int? FailFirst);

/// <summary>The parts of an OpenAI chat (or legacy completion) request the simulator uses.</summary>
/// <param name="Model">The model named, or the simulated one.</param>
/// <param name="Prompt">The last user message (or the prompt): fault triggers are read from it.</param>
/// <param name="PromptTokens">Words of every message, as tokens.</param>
/// <param name="Fault">A fault trigger found in the prompt.</param>
/// <param name="Stream">True for <c>stream: true</c>: the answer comes as server-sent events.</param>
/// <param name="IncludeUsage">True for <c>stream_options.include_usage</c>: a streamed answer ends with a usage chunk.</param>
internal sealed record ChatRequest(string Model, string Prompt, int PromptTokens, FaultTrigger? Fault, bool Stream = false, bool IncludeUsage = false);

/// <summary>The parts of an OpenAI embeddings request the simulator uses.</summary>
/// <param name="Model">The model named, or the simulated one.</param>
/// <param name="Inputs">The texts to embed (a token array as its numbers).</param>
/// <param name="PromptTokens">Words (or tokens) of every input.</param>
/// <param name="Fault">A fault trigger found in the inputs.</param>
/// <param name="Dimensions">Length of each vector.</param>
/// <param name="Base64">True for <c>encoding_format: base64</c> (little-endian float32s, as the official clients ask).</param>
internal sealed record EmbeddingsRequest(string Model, IReadOnlyList<string> Inputs, int PromptTokens, FaultTrigger? Fault, bool Base64, int Dimensions)
{
    /// <summary>Vector length when the request names none (small: the simulator's vectors carry no meaning).</summary>
    public const int DefaultDimensions = 8;
}

/// <summary>Parses and validates an OpenAI-style chat completion request body.</summary>
internal static partial class ChatRequestParser
{
    /// <summary>Model name reported when the request names none.</summary>
    public const string DefaultModel = "simulated-model";

    /// <summary>Parses a request body; on failure <paramref name="error"/> is a message suitable for a <c>400</c> response.</summary>
    public static bool TryParse(JsonElement root, [NotNullWhen(true)] out ChatRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The request body must be a JSON object.";
            return false;
        }

        if (!TryParseModel(root, out string model, out error) || !TryParseStream(root, out bool stream, out bool includeUsage, out error))
        {
            return false;
        }

        if (!root.TryGetProperty("messages", out JsonElement messages) || messages.ValueKind != JsonValueKind.Array)
        {
            error = "'messages' is required and must be an array.";
            return false;
        }

        if (messages.GetArrayLength() == 0)
        {
            error = "'messages' must contain at least one message.";
            return false;
        }

        string? lastUser = null;
        string lastAny = string.Empty;
        int promptTokens = 0;
        int index = 0;
        foreach (JsonElement message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("role", out JsonElement role)
                || role.ValueKind != JsonValueKind.String)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"'messages[{index}]' must be an object with a string 'role'.");
                return false;
            }

            if (!TryGetContent(message, out string content))
            {
                error = string.Create(CultureInfo.InvariantCulture, $"'messages[{index}].content' must be a string or an array of content parts.");
                return false;
            }

            promptTokens += CountWords(content);
            lastAny = content;
            if (role.ValueEquals("user"))
            {
                lastUser = content;
            }

            index++;
        }

        string prompt = lastUser ?? lastAny;
        if (!TryParseFault(prompt, out FaultTrigger? fault, out error))
        {
            return false;
        }

        request = new ChatRequest(model, prompt, promptTokens, fault, stream, includeUsage);
        return true;
    }

    /// <summary>Parses a legacy completion request (<c>prompt</c>: a string or an array of strings; no streaming).</summary>
    public static bool TryParseCompletion(JsonElement root, [NotNullWhen(true)] out ChatRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The request body must be a JSON object.";
            return false;
        }

        if (!TryParseModel(root, out string model, out error) || !TryParseStream(root, out bool stream, out _, out error))
        {
            return false;
        }

        if (stream)
        {
            error = "Streaming legacy completions is not supported by the simulator; use chat completions.";
            return false;
        }

        if (!root.TryGetProperty("prompt", out JsonElement promptElement) || !TryGetTexts(promptElement, out List<string> texts) || texts.Count == 0)
        {
            error = "'prompt' is required and must be a string or an array of strings.";
            return false;
        }

        string prompt = string.Join('\n', texts);
        if (!TryParseFault(prompt, out FaultTrigger? fault, out error))
        {
            return false;
        }

        request = new ChatRequest(model, prompt, CountWords(prompt), fault);
        return true;
    }

    /// <summary>Parses an embeddings request (<c>input</c>: a string, strings, or token arrays).</summary>
    public static bool TryParseEmbeddings(JsonElement root, [NotNullWhen(true)] out EmbeddingsRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The request body must be a JSON object.";
            return false;
        }

        if (!TryParseModel(root, out string model, out error))
        {
            return false;
        }

        if (!root.TryGetProperty("input", out JsonElement input) || !TryGetInputs(input, out List<string> inputs, out int tokens) || inputs.Count == 0)
        {
            error = "'input' is required and must be a string, an array of strings or an array of token arrays.";
            return false;
        }

        int dimensions = EmbeddingsRequest.DefaultDimensions;
        if (root.TryGetProperty("dimensions", out JsonElement dims) && dims.ValueKind != JsonValueKind.Null
            && (!dims.TryGetInt32(out dimensions) || dimensions is < 1 or > 4096))
        {
            error = "'dimensions' must be an integer between 1 and 4096.";
            return false;
        }

        bool base64 = false;
        if (root.TryGetProperty("encoding_format", out JsonElement format) && format.ValueKind == JsonValueKind.String)
        {
            base64 = format.ValueEquals("base64");
            if (!base64 && !format.ValueEquals("float"))
            {
                error = "'encoding_format' must be 'float' or 'base64'.";
                return false;
            }
        }

        string joined = string.Join('\n', inputs);
        if (!TryParseFault(joined, out FaultTrigger? fault, out error))
        {
            return false;
        }

        request = new EmbeddingsRequest(model, inputs, tokens, fault, base64, dimensions);
        return true;
    }

    private static bool TryParseModel(JsonElement root, out string model, [NotNullWhen(false)] out string? error)
    {
        error = null;
        model = DefaultModel;
        if (root.TryGetProperty("model", out JsonElement modelElement) && modelElement.ValueKind != JsonValueKind.Null)
        {
            if (modelElement.ValueKind != JsonValueKind.String)
            {
                error = "'model' must be a string.";
                return false;
            }

            string? name = modelElement.GetString();
            if (!string.IsNullOrWhiteSpace(name))
            {
                model = name;
            }
        }

        return true;
    }

    private static bool TryParseStream(JsonElement root, out bool stream, out bool includeUsage, [NotNullWhen(false)] out string? error)
    {
        error = null;
        stream = root.TryGetProperty("stream", out JsonElement element) && element.ValueKind == JsonValueKind.True;
        includeUsage = root.TryGetProperty("stream_options", out JsonElement options)
            && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out JsonElement include)
            && include.ValueKind == JsonValueKind.True;
        if (element.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False))
        {
            error = "'stream' must be a boolean.";
            return false;
        }

        return true;
    }

    private static bool TryGetTexts(JsonElement element, out List<string> texts)
    {
        texts = [];
        if (element.ValueKind == JsonValueKind.String)
        {
            texts.Add(element.GetString()!);
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (JsonElement item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            texts.Add(item.GetString()!);
        }

        return true;
    }

    /// <summary>Inputs as texts (a token array becomes its numbers joined by spaces: one word per token).</summary>
    private static bool TryGetInputs(JsonElement element, out List<string> inputs, out int tokens)
    {
        tokens = 0;
        if (TryGetTexts(element, out inputs))
        {
            tokens = inputs.Sum(CountWords);
            return true;
        }

        inputs = [];
        if (element.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        bool flat = element.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number);
        IEnumerable<JsonElement> arrays = flat ? [element] : element.EnumerateArray();
        foreach (JsonElement array in arrays)
        {
            if (array.ValueKind != JsonValueKind.Array || array.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
            {
                return false;
            }

            inputs.Add(string.Join(' ', array.EnumerateArray().Select(e => e.GetRawText())));
            tokens += array.GetArrayLength();
        }

        return true;
    }

    /// <summary>Approximate token count: the number of white-space separated words.</summary>
    public static int CountWords(string text)
    {
        int count = 0;
        bool inWord = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                count++;
            }
        }

        return count;
    }

    private static bool TryGetContent(JsonElement message, out string content)
    {
        content = string.Empty;
        if (!message.TryGetProperty("content", out JsonElement element))
        {
            return true;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                content = element.GetString() ?? string.Empty;
                return true;
            case JsonValueKind.Array:
                // Content parts: [{ "type": "text", "text": "..." }, { "type": "image_url", ... }]; only text is used.
                var text = new StringBuilder();
                foreach (JsonElement part in element.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object
                        && part.TryGetProperty("text", out JsonElement partText)
                        && partText.ValueKind == JsonValueKind.String)
                    {
                        if (text.Length > 0)
                        {
                            text.Append('\n');
                        }

                        text.Append(partText.GetString());
                    }
                }

                content = text.ToString();
                return true;
            default:
                return false;
        }
    }

    internal static bool TryParseFault(string prompt, out FaultTrigger? fault, [NotNullWhen(false)] out string? error)
    {
        fault = null;
        error = null;

        Match always = FailRegex().Match(prompt);
        if (always.Success)
        {
            if (!TryParseStatus(always.Groups[1].Value, always.Value, out int status, out error))
            {
                return false;
            }

            fault = new FaultTrigger(status, FailFirst: null);
            return true;
        }

        Match first = FailFirstRegex().Match(prompt);
        if (first.Success)
        {
            if (!int.TryParse(first.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            {
                error = $"Invalid fault trigger '{first.Value}': the attempt count is too large.";
                return false;
            }

            if (!TryParseStatus(first.Groups[2].Value, first.Value, out int status, out error))
            {
                return false;
            }

            fault = new FaultTrigger(status, count);
        }

        return true;
    }

    private static bool TryParseStatus(string digits, string trigger, out int status, [NotNullWhen(false)] out string? error)
    {
        if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out status) && status is >= 400 and <= 599)
        {
            error = null;
            return true;
        }

        error = $"Invalid fault trigger '{trigger}': the status code must be between 400 and 599.";
        return false;
    }

    [GeneratedRegex(@"\[fail:(\d{1,9})\]", RegexOptions.CultureInvariant)]
    private static partial Regex FailRegex();

    [GeneratedRegex(@"\[fail-first:(\d{1,9}):(\d{1,9})\]", RegexOptions.CultureInvariant)]
    private static partial Regex FailFirstRegex();
}
