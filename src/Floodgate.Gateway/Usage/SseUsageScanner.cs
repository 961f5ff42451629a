namespace Floodgate.Gateway.Usage;

/// <summary>
/// Finds <c>usage</c> in a stream of server-sent events (<c>data: {...}</c> lines; the last chunk of a stream asked with
/// <c>stream_options.include_usage</c> carries it). Events are parsed one at a time; the stream itself passes untouched.
/// </summary>
internal sealed class SseUsageScanner
{
    /// <summary>A longer line is not an OpenAI chunk: it is skipped rather than held.</summary>
    private const int MaxLineBytes = 1024 * 1024;

    private static readonly byte[] DataPrefix = "data:"u8.ToArray();
    private readonly List<byte> _line = [];
    private bool _skipping;

    public TokenUsage? Usage { get; private set; }

    /// <summary>Data events seen (chunks of the answer).</summary>
    public int Events { get; private set; }

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        foreach (var b in chunk)
        {
            if (b == (byte)'\n')
            {
                if (!_skipping)
                {
                    OnLine(CollectionsMarshalSpan());
                }

                _line.Clear();
                _skipping = false;
            }
            else if (!_skipping)
            {
                _line.Add(b);
                if (_line.Count > MaxLineBytes)
                {
                    _skipping = true;
                    _line.Clear();
                }
            }
        }
    }

    private ReadOnlySpan<byte> CollectionsMarshalSpan() => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line);

    private void OnLine(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd((byte)'\r');
        if (!line.StartsWith(DataPrefix))
        {
            return;
        }

        var data = line[DataPrefix.Length..].TrimStart((byte)' ');
        if (data.SequenceEqual("[DONE]"u8))
        {
            return;
        }

        Events++;
        if (data.IndexOf("\"usage\""u8) < 0)
        {
            return;
        }

        var scanner = new JsonUsageScanner();
        scanner.Feed(data);
        scanner.Feed("\n"u8); // ends a trailing number token
        Usage = scanner.Usage ?? Usage;
    }
}
