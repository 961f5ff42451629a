using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// Reads an NDJSON request body as it arrives: the first non-blank line is the batch's settings (a JSON object), every
/// later non-blank line one item (any JSON value). Lines are checked as they are read; a problem is a
/// <see cref="FloodgateValidationException"/> naming the line, so a streamed submission stops there (and its batch is
/// discarded by the SDK). Nothing but the current line is held in memory.
/// </summary>
internal sealed class NdjsonItemReader(PipeReader body)
{
    /// <summary>Content types of an NDJSON body.</summary>
    public static readonly string[] ContentTypes = ["application/x-ndjson", "application/ndjson", "application/jsonl"];

    /// <summary>Longest line accepted (one item or the settings); longer is a mistake, not an item.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private long _line;

    /// <summary>True when <paramref name="request"/> says its body is NDJSON.</summary>
    public static bool IsNdjson(HttpRequest request) =>
        request.ContentType is { } type && ContentTypes.Any(t => type.StartsWith(t, StringComparison.OrdinalIgnoreCase));

    /// <summary>The first line, read as <typeparamref name="T"/> (strict API JSON); a body without one is a 400.</summary>
    public async Task<T> ReadHeaderAsync<T>(CancellationToken cancellationToken)
        where T : class
    {
        var line = await ReadLineAsync(cancellationToken)
            ?? throw new FloodgateValidationException("The NDJSON body is empty: its first line is the batch's settings (a JSON object), then one item per line.");
        return ApiJson.Deserialize<T>(line, $"line {_line}")
            ?? throw new FloodgateValidationException($"Line {_line} must be the batch's settings (a JSON object), not null.");
    }

    /// <summary>Every item line after the settings, as JSON text, checked to be one JSON value.</summary>
    public async IAsyncEnumerable<string> ReadItemsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadLineAsync(cancellationToken) is { } line)
        {
            if (Problem(line) is { } problem)
            {
                throw new FloodgateValidationException($"Line {_line}: not valid JSON ({problem}).");
            }

            yield return Encoding.UTF8.GetString(line);
        }
    }

    /// <summary>The next non-blank line (without its line break and surrounding white space), or null at the end of the body.</summary>
    private async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            var end = buffer.PositionOf((byte)'\n');
            if (end is null && !read.IsCompleted)
            {
                if (buffer.Length > MaxLineBytes)
                {
                    throw new FloodgateValidationException($"Line {_line + 1} is longer than {MaxLineBytes} bytes.");
                }

                // Not a whole line yet: ask for more, keeping what is here.
                body.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            var lineBytes = end is { } newline ? buffer.Slice(0, newline) : buffer;
            var next = end is { } at ? buffer.GetPosition(1, at) : buffer.End;
            if (lineBytes.Length > MaxLineBytes)
            {
                throw new FloodgateValidationException($"Line {_line + 1} is longer than {MaxLineBytes} bytes.");
            }

            var line = Trim(lineBytes.ToArray());
            body.AdvanceTo(next);
            if (end is null && lineBytes.Length == 0)
            {
                return null;
            }

            _line++;
            if (line.Length > 0)
            {
                return line;
            }
        }
    }

    private static byte[] Trim(byte[] line)
    {
        var span = line.AsSpan().Trim(" \t\r"u8);
        return span.Length == line.Length ? line : span.ToArray();
    }

    /// <summary>Why <paramref name="line"/> is not exactly one JSON value, or null when it is.</summary>
    private static string? Problem(byte[] line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            reader.Read();
            reader.Skip();
            return reader.Read() ? "more than one JSON value on the line" : null;
        }
        catch (JsonException ex)
        {
            var message = ex.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return (cut < 0 ? message : message[..cut]).Trim().TrimEnd('.');
        }
    }
}
