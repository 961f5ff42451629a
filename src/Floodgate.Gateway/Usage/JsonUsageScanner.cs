using System.Text.Json;

namespace Floodgate.Gateway.Usage;

/// <summary>
/// Finds the top-level <c>usage</c> object of a JSON response while it streams past, chunk by chunk, without holding the
/// body (an embeddings answer can be tens of megabytes; only a token cut by a chunk boundary is kept).
/// </summary>
internal sealed class JsonUsageScanner
{
    private byte[] _pending = [];
    private JsonReaderState _state;
    private bool _failed;
    private bool _usageNext;
    private int _usageDepth = -1;
    private string? _field;
    private int? _prompt;
    private int? _completion;
    private int? _total;

    /// <summary>The usage seen so far; null until a complete <c>usage</c> object with token counts passed.</summary>
    public TokenUsage? Usage { get; private set; }

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        if (_failed || Usage is not null)
        {
            return;
        }

        var buffer = _pending.Length == 0 ? chunk : [.. _pending, .. chunk];
        var reader = new Utf8JsonReader(buffer, isFinalBlock: false, _state);
        try
        {
            while (reader.Read())
            {
                Handle(ref reader);
            }
        }
        catch (JsonException)
        {
            _failed = true; // Not JSON after all: the estimate stands.
            _pending = [];
            return;
        }

        _state = reader.CurrentState;
        _pending = buffer[(int)reader.BytesConsumed..].ToArray();
    }

    private void Handle(ref Utf8JsonReader reader)
    {
        if (_usageDepth < 0)
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                _usageNext = reader.ValueTextEquals("usage"u8);
            }
            else if (_usageNext)
            {
                _usageNext = false;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    _usageDepth = reader.CurrentDepth;
                }
            }

            return;
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.PropertyName when reader.CurrentDepth == _usageDepth + 1:
                _field = reader.GetString();
                break;
            case JsonTokenType.Number when reader.CurrentDepth == _usageDepth + 1 && reader.TryGetInt32(out var value):
                switch (_field)
                {
                    case "prompt_tokens": _prompt = value; break;
                    case "completion_tokens": _completion = value; break;
                    case "total_tokens": _total = value; break;
                }

                break;
            case JsonTokenType.EndObject when reader.CurrentDepth == _usageDepth:
                _usageDepth = -1;
                if (_prompt is not null || _total is not null)
                {
                    var prompt = _prompt ?? 0;
                    var completion = _completion ?? 0;
                    Usage = new TokenUsage(prompt, completion, _total ?? prompt + completion);
                }

                break;
        }
    }
}
