using Floodgate.Gateway.Forwarding;

namespace Floodgate.Gateway.Usage;

/// <summary>
/// The client's response body with an observer: every byte the proxy writes goes on to the client unchanged and at once
/// (chunk by chunk for server-sent events), and past a scanner that picks the upstream's <c>usage</c> out of it.
/// </summary>
internal sealed class UsageObservingStream(Stream inner, Func<string?> contentType) : ObservingWriteStream(inner)
{
    private JsonUsageScanner? _json;
    private SseUsageScanner? _sse;
    private bool _chosen;

    /// <summary>The usage the upstream reported in the body; null when it reported none (or the body was neither JSON nor SSE).</summary>
    public TokenUsage? Usage => _json?.Usage ?? _sse?.Usage;

    /// <summary>Bytes passed to the client.</summary>
    public long BytesWritten { get; private set; }

    protected override void Observe(ReadOnlySpan<byte> data)
    {
        BytesWritten += data.Length;
        if (!_chosen)
        {
            _chosen = true;
            var type = contentType() ?? string.Empty;
            if (type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                _sse = new SseUsageScanner();
            }
            else if (type.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                _json = new JsonUsageScanner();
            }
        }

        _json?.Feed(data);
        _sse?.Feed(data);
    }
}
