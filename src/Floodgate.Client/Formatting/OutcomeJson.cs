using System.Text;
using System.Text.Json;
using Floodgate.Batches;

namespace Floodgate.Client.Formatting;

/// <summary>
/// The one JSON shape of an item outcome, used by the HTTP API's NDJSON results, the CLI's <c>results</c> output and the
/// demo: <c>{"position":0,"status":"succeeded","result":{…},"error":null,"attempts":1}</c>, plus <c>"cached":true</c> for a result from the shared cache; <c>result</c> is the
/// processor's JSON value inlined, not a string.
/// </summary>
public static class OutcomeJson
{
    /// <summary>Writes one outcome as a JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, ItemOutcome outcome)
    {
        writer.WriteStartObject();
        writer.WriteNumber("position", outcome.Position);
        writer.WriteString("status", StatusName(outcome.Status));
        writer.WritePropertyName("result");
        if (outcome.Result is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteRawValue(outcome.Result, skipInputValidation: false);
        }

        if (outcome.Error is null)
        {
            writer.WriteNull("error");
        }
        else
        {
            writer.WriteString("error", outcome.Error);
        }

        writer.WriteNumber("attempts", outcome.Attempts);
        if (outcome.Cached)
        {
            // Only when true: outcomes that called the upstream keep their shape.
            writer.WriteBoolean("cached", true);
        }

        writer.WriteEndObject();
    }

    /// <summary>One outcome as a single line of JSON (no trailing newline).</summary>
    public static string ToLine(ItemOutcome outcome)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, outcome);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads one outcome written by <see cref="Write"/> (a line of the HTTP API's results stream).</summary>
    public static ItemOutcome Read(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var name = root.GetProperty("status").GetString();
        var status = Enum.GetValues<ItemStatus>().Where(s => StatusName(s) == name).Cast<ItemStatus?>().FirstOrDefault()
            ?? throw new JsonException($"Unknown item status '{name}'.");
        var result = root.GetProperty("result");
        var error = root.GetProperty("error");
        return new ItemOutcome(
            root.GetProperty("position").GetInt32(),
            status,
            result.ValueKind == JsonValueKind.Null ? null : result.GetRawText(),
            error.ValueKind == JsonValueKind.Null ? null : error.GetString(),
            root.GetProperty("attempts").GetInt32())
        {
            Cached = root.TryGetProperty("cached", out var cached) && cached.ValueKind == JsonValueKind.True,
        };
    }

    /// <summary>The lower-case status name used on the wire.</summary>
    public static string StatusName(ItemStatus status) => status switch
    {
        ItemStatus.Pending => "pending",
        ItemStatus.InFlight => "in-flight",
        ItemStatus.Succeeded => "succeeded",
        ItemStatus.Failed => "failed",
        ItemStatus.Cancelled => "cancelled",
        _ => status.ToString().ToLowerInvariant(),
    };
}
