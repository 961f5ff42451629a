using Floodgate.Gateway.Forwarding;

namespace Floodgate.Gateway.Caching;

/// <summary>
/// The client's response body with a copy kept: every byte goes on to the client unchanged and at once, and the first
/// <c>limit</c> bytes are kept as well, so the leader of a cached request can store the answer it forwarded.
/// </summary>
internal sealed class ResponseCapture(Stream inner, long limit) : ObservingWriteStream(inner)
{
    private readonly MemoryStream _copy = new();

    /// <summary>True when the body grew past the limit (the copy is then incomplete and must not be stored).</summary>
    public bool Overflowed { get; private set; }

    /// <summary>The bytes kept; the whole body unless <see cref="Overflowed"/>.</summary>
    public ReadOnlySpan<byte> Captured => _copy.GetBuffer().AsSpan(0, (int)_copy.Length);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _copy.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override void Observe(ReadOnlySpan<byte> data)
    {
        if (Overflowed)
        {
            return;
        }

        if (_copy.Length + data.Length > limit)
        {
            Overflowed = true;
            _copy.SetLength(0);
            return;
        }

        _copy.Write(data);
    }
}
