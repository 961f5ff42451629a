using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floodgate.Grains.Processors.Templates;

/// <summary>
/// A JSON document whose string values may hold <see cref="ItemTemplate"/> placeholders. A string that is exactly one
/// placeholder (<c>"{count}"</c>) takes the field's JSON value (a number stays a number); other strings get the fields'
/// text. Property names are kept as they are.
/// </summary>
public sealed class JsonBodyTemplate
{
    private readonly JsonNode? _root;

    private JsonBodyTemplate(JsonNode? root, IReadOnlyList<string> fields)
    {
        _root = root;
        Fields = fields;
    }

    /// <summary>The fields the template uses, without <c>item</c>.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>Reads a body template; null with <paramref name="error"/> when it is not JSON.</summary>
    public static JsonBodyTemplate? TryParse(string text, out string? error)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            error = "the body template is not valid JSON";
            return null;
        }

        var fields = new List<string>();
        foreach (var value in Strings(root))
        {
            fields.AddRange(ItemTemplate.Parse(value).Fields.Where(f => !fields.Contains(f)));
        }

        error = null;
        return new JsonBodyTemplate(root, fields);
    }

    /// <summary>Why <paramref name="item"/> cannot fill this template, or null.</summary>
    public string? Check(JsonElement item) => ItemTemplate.Parse(string.Join(" ", Fields.Select(f => $"{{{f}}}"))).Check(item);

    /// <summary>The body for one item.</summary>
    public JsonNode? Render(JsonElement item) => Fill(_root, item);

    private static JsonNode? Fill(JsonNode? node, JsonElement item) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Fill(p.Value, item)))),
        JsonArray a => new JsonArray(a.Select(v => Fill(v, item)).ToArray()),
        JsonValue v when v.TryGetValue<string>(out var text) => ItemTemplate.WholeValue(text, item) is { } whole
            ? JsonNode.Parse(whole.GetRawText())
            : JsonValue.Create(ItemTemplate.Parse(text).Render(item)),
        null => null,
        _ => node.DeepClone(),
    };

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var text) => [text],
        _ => [],
    };
}
