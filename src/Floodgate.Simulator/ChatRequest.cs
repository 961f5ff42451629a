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

/// <summary>The parts of an OpenAI chat completion request the simulator uses.</summary>
internal sealed record ChatRequest(string Model, string Prompt, int PromptTokens, FaultTrigger? Fault);

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

        string model = DefaultModel;
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

        if (root.TryGetProperty("stream", out JsonElement stream) && stream.ValueKind == JsonValueKind.True)
        {
            error = "Streaming ('stream': true) is not supported by the simulator.";
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

        request = new ChatRequest(model, prompt, promptTokens, fault);
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

    private static bool TryParseFault(string prompt, out FaultTrigger? fault, [NotNullWhen(false)] out string? error)
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
