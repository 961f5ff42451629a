using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Floodgate.Grains.Processors.Templates;

/// <summary>
/// Text with placeholders filled from an item: <c>{item}</c> is the item's text (a string item, an object's
/// <c>prompt</c> field, or the item's JSON); <c>{name}</c> (or a dotted path <c>{a.b}</c>) is that field of an object
/// item — a string field as its text, anything else as its JSON. Braces that do not form a placeholder (JSON in a body
/// template) are kept as they are.
/// </summary>
public sealed partial class ItemTemplate
{
    /// <summary>The placeholder that stands for the whole item.</summary>
    public const string ItemPlaceholder = "item";

    private readonly string _text;

    private ItemTemplate(string text, IReadOnlyList<string> fields)
    {
        _text = text;
        Fields = fields;
    }

    /// <summary>The placeholder names used, in order of first use, without <c>{item}</c>.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>True when the template has at least one placeholder.</summary>
    public bool HasPlaceholders { get; private init; }

    /// <summary>Reads a template; any text is a valid template.</summary>
    public static ItemTemplate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var names = Placeholder().Matches(text).Select(m => m.Groups[1].Value).ToList();
        var fields = names.Where(n => n != ItemPlaceholder).Distinct(StringComparer.Ordinal).ToList();
        return new ItemTemplate(text, fields) { HasPlaceholders = names.Count > 0 };
    }

    /// <summary>
    /// Why <paramref name="item"/> cannot fill this template (a field it lacks, or a non-object item where fields are
    /// used), or null when it can.
    /// </summary>
    public string? Check(JsonElement item)
    {
        if (Fields.Count == 0)
        {
            return null;
        }

        if (item.ValueKind != JsonValueKind.Object)
        {
            return $"the template uses {{{Fields[0]}}}, but the item is not a JSON object";
        }

        foreach (var field in Fields)
        {
            if (!TryGetField(item, field, out _))
            {
                return $"the template uses {{{field}}}, which the item does not have";
            }
        }

        return null;
    }

    /// <summary>The template with every placeholder replaced by its value in <paramref name="item"/>.</summary>
    /// <exception cref="ArgumentException">The item lacks a field (submission validation prevents this).</exception>
    public string Render(JsonElement item) =>
        Placeholder().Replace(_text, match => TextOf(item, match.Groups[1].Value));

    /// <summary>The template filled with values passed through <paramref name="encode"/> (e.g. URL escaping).</summary>
    public string Render(JsonElement item, Func<string, string> encode) =>
        Placeholder().Replace(_text, match => encode(TextOf(item, match.Groups[1].Value)));

    /// <summary>
    /// The JSON value a placeholder standing alone in a JSON string stands for: <c>"{count}"</c> in a body template
    /// becomes the item's number, not its text. Null when <paramref name="text"/> is not exactly one placeholder.
    /// </summary>
    public static JsonElement? WholeValue(string text, JsonElement item)
    {
        var match = Placeholder().Match(text);
        if (!match.Success || match.Length != text.Length)
        {
            return null;
        }

        var name = match.Groups[1].Value;
        if (name == ItemPlaceholder)
        {
            return item;
        }

        return TryGetField(item, name, out var value) ? value : throw Missing(name);
    }

    /// <summary>The item's text for <c>{item}</c>.</summary>
    public static string ItemText(JsonElement item) => item.ValueKind switch
    {
        JsonValueKind.String => item.GetString()!,
        JsonValueKind.Object when item.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String => p.GetString()!,
        _ => item.GetRawText(),
    };

    /// <summary>Reads a dotted path (<c>a.b</c>) from an object item.</summary>
    public static bool TryGetField(JsonElement item, string path, out JsonElement value)
    {
        value = item;
        foreach (var part in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value))
            {
                value = default;
                return false;
            }
        }

        return true;
    }

    private static string TextOf(JsonElement item, string name)
    {
        if (name == ItemPlaceholder)
        {
            return ItemText(item);
        }

        if (!TryGetField(item, name, out var value))
        {
            throw Missing(name);
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
    }

    private static ArgumentException Missing(string name) =>
        new($"The item has no field '{name}'.", nameof(name));

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
