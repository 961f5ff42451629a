using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Floodgate.Grains.Caching;

/// <summary>
/// Who may use the cache and under which key: a batch opts in with the processor option <c>cache=true</c>; the key is a
/// hash of the processor, its other options and the normalized item, so two batches asking the same thing share it.
/// </summary>
public static class ResultCaching
{
    /// <summary>The processor option that turns the cache on for a batch (<c>true</c> / <c>false</c>).</summary>
    public const string OptionName = "cache";

    /// <summary>A problem with the <c>cache</c> option, or null.</summary>
    public static string? CheckOption(IReadOnlyDictionary<string, string> options) =>
        options.TryGetValue(OptionName, out var text) && !bool.TryParse(text, out _)
            ? $"Processor option {OptionName} must be true or false (got '{text}')."
            : null;

    /// <summary>True when the batch asked for the cache.</summary>
    public static bool IsEnabled(IReadOnlyDictionary<string, string> options) =>
        options.TryGetValue(OptionName, out var text) && bool.TryParse(text, out var on) && on;

    /// <summary>The cache key: hex SHA-256 of processor, sorted options (without <c>cache</c>) and normalized item.</summary>
    public static string Key(string processor, IReadOnlyDictionary<string, string> options, string itemJson)
    {
        var text = new StringBuilder().Append(processor).Append('\n');
        foreach (var (name, value) in options.Where(o => o.Key != OptionName).OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            text.Append(name.Length).Append(':').Append(name).Append('=').Append(value.Length).Append(':').Append(value).Append('\n');
        }

        text.Append(Normalize(itemJson));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The shard (cache grain) of a key.</summary>
    public static int Shard(string key, int shards) => (int)(Convert.ToUInt32(key[..8], 16) % (uint)shards);

    /// <summary>
    /// The item in one canonical form: compact JSON, object properties sorted, strings trimmed and in Unicode form C —
    /// so <c>{"b":1,"a":" word "}</c> and <c>{"a":"word","b":1}</c> share a key.
    /// </summary>
    public static string Normalize(string itemJson)
    {
        using var document = JsonDocument.Parse(itemJson);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, document.RootElement);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var element in value.EnumerateArray())
                {
                    Write(writer, element);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(value.GetString()!.Trim().Normalize(NormalizationForm.FormC));
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}
