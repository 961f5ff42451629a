using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Floodgate.Validation;

namespace Floodgate.Cli.Input;

/// <summary>
/// Reads a file of items into JSON texts, one per item, streaming it line by line. Every problem is a
/// <see cref="FloodgateValidationException"/> naming the file and the 1-based line.
/// </summary>
internal static class ItemFileReader
{
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions ObjectOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Reads <paramref name="path"/> in <paramref name="format"/> (<see cref="ItemFileFormat.Auto"/> goes by extension).
    /// For CSV, <paramref name="csvColumn"/> picks the column that becomes each item (a string); without it each row
    /// becomes a JSON object of header → value.
    /// </summary>
    public static IReadOnlyList<string> Read(string path, ItemFileFormat format, string? csvColumn = null, CancellationToken cancellationToken = default)
    {
        var resolved = ItemFileFormats.Resolve(format, path);
        if (csvColumn is not null && resolved != ItemFileFormat.Csv)
        {
            throw new FloodgateValidationException("--csv-column applies only to CSV input.");
        }

        using var reader = Open(path);
        var items = new ItemCollector(path);
        switch (resolved)
        {
            case ItemFileFormat.Jsonl:
                ReadJsonLines(reader, items, cancellationToken);
                break;
            case ItemFileFormat.Csv:
                ReadCsv(reader, items, csvColumn, cancellationToken);
                break;
            default:
                ReadLines(reader, items, cancellationToken);
                break;
        }

        return items.Items.Count > 0 ? items.Items : throw new FloodgateValidationException($"no items in {path}.");
    }

    private static StreamReader Open(string path)
    {
        try
        {
            return new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FloodgateValidationException($"{path}: file not found.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new FloodgateValidationException($"{path}: cannot be read ({ex.Message.TrimEnd('.')}).");
        }
    }

    private static void ReadLines(TextReader reader, ItemCollector items, CancellationToken cancellationToken)
    {
        while (reader.ReadLine() is { } line)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!string.IsNullOrWhiteSpace(line))
            {
                items.Add(JsonSerializer.Serialize(line, StringOptions));
            }
        }
    }

    private static void ReadJsonLines(TextReader reader, ItemCollector items, CancellationToken cancellationToken)
    {
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var _ = JsonDocument.Parse(line);
            }
            catch (JsonException ex)
            {
                throw new FloodgateValidationException($"{items.Source} line {lineNumber}: not valid JSON ({JsonProblem(ex)}).");
            }

            items.Add(line.Trim());
        }
    }

    private static void ReadCsv(TextReader reader, ItemCollector items, string? column, CancellationToken cancellationToken)
    {
        var csv = new CsvRecordReader(reader, items.Source);
        var header = csv.Read() ?? throw new FloodgateValidationException($"no items in {items.Source} (it has no header row).");
        var columnIndex = column is null ? -1 : IndexOfColumn(header, column, items.Source);
        if (column is null && header.Distinct(StringComparer.Ordinal).Count() != header.Count)
        {
            var duplicate = header.GroupBy(name => name, StringComparer.Ordinal).First(g => g.Count() > 1).Key;
            throw new FloodgateValidationException($"{items.Source} line {csv.RecordLine}: column '{duplicate}' appears twice in the header.");
        }

        var buffer = new ArrayBufferWriter<byte>();
        while (csv.Read() is { } row)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (row.Count != header.Count)
            {
                throw new FloodgateValidationException(
                    $"{items.Source} line {csv.RecordLine}: {row.Count} field{(row.Count == 1 ? "" : "s")}, but the header has {header.Count}.");
            }

            items.Add(columnIndex >= 0 ? JsonSerializer.Serialize(row[columnIndex], StringOptions) : ToJsonObject(header, row, buffer));
        }
    }

    private static int IndexOfColumn(IReadOnlyList<string> header, string column, string source)
    {
        for (var i = 0; i < header.Count; i++)
        {
            if (header[i] == column)
            {
                return i;
            }
        }

        throw new FloodgateValidationException($"{source} has no column '{column}' (columns: {string.Join(", ", header)}).");
    }

    private static string ToJsonObject(IReadOnlyList<string> header, IReadOnlyList<string> row, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, ObjectOptions))
        {
            writer.WriteStartObject();
            for (var i = 0; i < header.Count; i++)
            {
                writer.WriteString(header[i], row[i]);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // JsonException messages end with " LineNumber: 0 | BytePositionInLine: 7."; keep the sentence, give the position plainly.
    private static string JsonProblem(JsonException ex)
    {
        var message = ex.Message;
        var position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (position >= 0)
        {
            message = message[..position];
        }

        message = message.Trim().TrimEnd('.');
        return ex.BytePositionInLine is { } bytes ? $"{message}, at byte {bytes + 1}" : message;
    }

    /// <summary>The items read so far; stops a file that holds more than one batch can take before it fills memory.</summary>
    private sealed class ItemCollector(string source)
    {
        private readonly List<string> _items = [];

        public string Source { get; } = source;

        public IReadOnlyList<string> Items => _items;

        public void Add(string item)
        {
            if (_items.Count == FloodgateDefaults.MaxBatchItems)
            {
                throw new FloodgateValidationException(
                    $"{Source} has more than {FloodgateDefaults.MaxBatchItems} items, the most one batch takes.");
            }

            _items.Add(item);
        }
    }
}
