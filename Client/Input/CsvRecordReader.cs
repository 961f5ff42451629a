using System.Text;
using Floodgate.Validation;

namespace Floodgate.Cli.Input;

/// <summary>
/// Reads RFC 4180 records one at a time: fields separated by commas, optionally in double quotes (a quoted field may
/// hold commas, line breaks and doubled quotes). Empty lines between records are skipped.
/// </summary>
internal sealed class CsvRecordReader(TextReader reader, string source)
{
    private const int End = -1;
    private readonly StringBuilder _field = new();
    private int _line = 1;

    /// <summary>The 1-based line on which the record last returned by <see cref="Read"/> starts.</summary>
    public int RecordLine { get; private set; }

    /// <summary>The next record's fields, or null at the end of the input.</summary>
    public IReadOnlyList<string>? Read()
    {
        while (reader.Peek() is '\r' or '\n')
        {
            ReadLineBreak();
        }

        if (reader.Peek() == End)
        {
            return null;
        }

        RecordLine = _line;
        var fields = new List<string>();
        while (true)
        {
            fields.Add(reader.Peek() == '"' ? ReadQuotedField() : ReadPlainField());
            var next = reader.Peek();
            if (next == ',')
            {
                reader.Read();
                continue;
            }

            if (next is '\r' or '\n')
            {
                ReadLineBreak();
            }

            return fields;
        }
    }

    private string ReadPlainField()
    {
        _field.Clear();
        while (reader.Peek() is not (End or ',' or '\r' or '\n'))
        {
            _field.Append((char)reader.Read());
        }

        return _field.ToString();
    }

    private string ReadQuotedField()
    {
        var startLine = _line;
        reader.Read();
        _field.Clear();
        while (true)
        {
            var c = reader.Peek();
            if (c == End)
            {
                throw Error(startLine, "a quoted field is not closed");
            }

            if (c is '\r' or '\n')
            {
                _field.Append(ReadLineBreak());
                continue;
            }

            reader.Read();
            if (c != '"')
            {
                _field.Append((char)c);
            }
            else if (reader.Peek() == '"')
            {
                reader.Read();
                _field.Append('"');
            }
            else if (reader.Peek() is End or ',' or '\r' or '\n')
            {
                return _field.ToString();
            }
            else
            {
                throw Error(_line, $"unexpected '{(char)reader.Peek()}' after a closing quote (write a quote inside a quoted field as \"\")");
            }
        }
    }

    private string ReadLineBreak()
    {
        _line++;
        var c = reader.Read();
        if (c == '\r' && reader.Peek() == '\n')
        {
            reader.Read();
            return "\r\n";
        }

        return c == '\r' ? "\r" : "\n";
    }

    private FloodgateValidationException Error(int line, string problem) => new($"{source} line {line}: {problem}.");
}
