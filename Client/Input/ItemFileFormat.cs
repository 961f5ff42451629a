using Floodgate.Validation;

namespace Floodgate.Cli.Input;

/// <summary>How an item file is read.</summary>
internal enum ItemFileFormat
{
    /// <summary>Chosen from the file extension: <c>.jsonl</c>/<c>.ndjson</c> → JSONL, <c>.csv</c> → CSV, else lines.</summary>
    Auto,

    /// <summary>One JSON value per non-blank line.</summary>
    Jsonl,

    /// <summary>Each non-blank line is one item, a JSON string.</summary>
    Lines,

    /// <summary>RFC 4180 CSV with a header row; each row is an item.</summary>
    Csv,
}

/// <summary>Names and resolution of <see cref="ItemFileFormat"/>.</summary>
internal static class ItemFileFormats
{
    /// <summary>The names accepted by <c>--format</c>.</summary>
    public static readonly string[] Names = ["auto", "jsonl", "lines", "csv"];

    /// <summary>Parses a <c>--format</c> value.</summary>
    public static ItemFileFormat Parse(string name) => name.ToLowerInvariant() switch
    {
        "auto" => ItemFileFormat.Auto,
        "jsonl" => ItemFileFormat.Jsonl,
        "lines" => ItemFileFormat.Lines,
        "csv" => ItemFileFormat.Csv,
        _ => throw new FloodgateValidationException($"Unknown format '{name}' (use one of: {string.Join(", ", Names)})."),
    };

    /// <summary>The concrete format of <paramref name="path"/>: <paramref name="format"/> itself, or the one its extension implies.</summary>
    public static ItemFileFormat Resolve(ItemFileFormat format, string path)
    {
        if (format != ItemFileFormat.Auto)
        {
            return format;
        }

        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" or ".ndjson" => ItemFileFormat.Jsonl,
            ".csv" => ItemFileFormat.Csv,
            _ => ItemFileFormat.Lines,
        };
    }
}
