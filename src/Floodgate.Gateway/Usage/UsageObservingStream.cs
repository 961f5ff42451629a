namespace Floodgate.Gateway.Usage;

/// <summary>
/// The client's response body with an observer: every byte the proxy writes goes on to the client unchanged and at once
/// (chunk by chunk for server-sent events), and past a scanner that picks the upstream's <c>usage</c> out of it.
/// </summary>
internal sealed class UsageObservingStream(Stream inner, Func<string?> contentType) : Stream
{
    private JsonUsageScanner? _json;
    private SseUsageScanner? _sse;
    private bool _chosen;

    /// <summary>The usage the upstream reported in the body; null when it reported none (or the body was neither JSON nor SSE).</summary>
    public TokenUsage? Usage => _json?.Usage ?? _sse?.Usage;

    /// <summary>Bytes passed to the client.</summary>
    public long BytesWritten { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Observe(buffer);
        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Observe(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void Observe(ReadOnlySpan<byte> data)
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
