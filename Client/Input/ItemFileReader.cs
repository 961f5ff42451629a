using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Floodgate.Validation;

namespace Floodgate.Cli.Input;

/// <summary>
/// Reads a file of items (or standard input, named <c>-</c>) into JSON texts, one per item, as a stream: nothing but the
/// current line is held in memory, whatever the file's size. Every problem is a <see cref="FloodgateValidationException"/>
/// naming the file and the 1-based line, raised when the reader gets there.
/// </summary>
internal static class ItemFileReader
{
    /// <summary>The name that stands for standard input.</summary>
    public const string StandardInput = "-";

    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions ObjectOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Reads <paramref name="path"/> (<c>-</c>: <paramref name="stdin"/>) in <paramref name="format"/>
    /// (<see cref="ItemFileFormat.Auto"/> goes by extension; standard input reads as lines). For CSV,
    /// <paramref name="csvColumn"/> picks the column that becomes each item (a string); without it each row becomes a JSON
    /// object of header → value. Lazy: the file is opened and read as the items are taken.
    /// </summary>
    public static IEnumerable<string> Read(string path, ItemFileFormat format, string? csvColumn = null, TextReader? stdin = null, CancellationToken cancellationToken = default)
    {
        var resolved = ItemFileFormats.Resolve(format, path);
        if (csvColumn is not null && resolved != ItemFileFormat.Csv)
        {
            throw new FloodgateValidationException("--csv-column applies only to CSV input.");
        }

        return ReadItems(path, resolved, csvColumn, stdin, cancellationToken);
    }

    /// <summary>Reads every item once to check them all; returns how many there are.</summary>
    public static long Validate(string path, ItemFileFormat format, string? csvColumn = null, CancellationToken cancellationToken = default)
    {
        var count = 0L;
        foreach (var _ in Read(path, format, csvColumn, stdin: null, cancellationToken))
        {
            count++;
        }

        return count;
    }

    private static IEnumerable<string> ReadItems(string path, ItemFileFormat format, string? csvColumn, TextReader? stdin, CancellationToken cancellationToken)
    {
        var source = path == StandardInput ? "standard input" : path;
        var reader = path == StandardInput ? stdin ?? TextReader.Null : Open(path);
        try
        {
            var items = format switch
            {
                ItemFileFormat.Jsonl => ReadJsonLines(reader, source, cancellationToken),
                ItemFileFormat.Csv => ReadCsv(reader, source, csvColumn, cancellationToken),
                _ => ReadLines(reader, cancellationToken),
            };
            var any = false;
            foreach (var item in items)
            {
                any = true;
                yield return item;
            }

            if (!any)
            {
                throw new FloodgateValidationException($"no items in {source}.");
            }
        }
        finally
        {
            // Standard input belongs to the process, not to this reader.
            if (path != StandardInput)
            {
                reader.Dispose();
            }
        }
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

    private static IEnumerable<string> ReadLines(TextReader reader, CancellationToken cancellationToken)
    {
        while (reader.ReadLine() is { } line)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return JsonSerializer.Serialize(line, StringOptions);
            }
        }
    }

    private static IEnumerable<string> ReadJsonLines(TextReader reader, string source, CancellationToken cancellationToken)
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
                throw new FloodgateValidationException($"{source} line {lineNumber}: not valid JSON ({JsonProblem(ex)}).");
            }

            yield return line.Trim();
        }
    }

    private static IEnumerable<string> ReadCsv(TextReader reader, string source, string? column, CancellationToken cancellationToken)
    {
        var csv = new CsvRecordReader(reader, source);
        var header = csv.Read() ?? throw new FloodgateValidationException($"no items in {source} (it has no header row).");
        var columnIndex = column is null ? -1 : IndexOfColumn(header, column, source);
        if (column is null && header.Distinct(StringComparer.Ordinal).Count() != header.Count)
        {
            var duplicate = header.GroupBy(name => name, StringComparer.Ordinal).First(g => g.Count() > 1).Key;
            throw new FloodgateValidationException($"{source} line {csv.RecordLine}: column '{duplicate}' appears twice in the header.");
        }

        var buffer = new ArrayBufferWriter<byte>();
        while (csv.Read() is { } row)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (row.Count != header.Count)
            {
                throw new FloodgateValidationException(
                    $"{source} line {csv.RecordLine}: {row.Count} field{(row.Count == 1 ? "" : "s")}, but the header has {header.Count}.");
            }

            yield return columnIndex >= 0 ? JsonSerializer.Serialize(row[columnIndex], StringOptions) : ToJsonObject(header, row, buffer);
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
}
