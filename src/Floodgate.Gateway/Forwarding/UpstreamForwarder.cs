using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Floodgate.Gateway.Forwarding;

/// <summary>
/// Forwards one request to an upstream with YARP's <see cref="IHttpForwarder"/>: headers and bodies are copied by YARP
/// (responses stream through as they arrive, server-sent events chunk by chunk); <see cref="UpstreamTransformer"/> swaps
/// the client's key for the upstream's. One connection pool for every upstream.
/// </summary>
internal sealed class UpstreamForwarder(IHttpForwarder forwarder) : IDisposable
{
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        // Inactivity, not total time: a model may think for minutes before its first byte.
        ActivityTimeout = TimeSpan.FromMinutes(10),
        AllowResponseBuffering = false,
    };

    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    /// <summary>Sends the request of <paramref name="context"/> to <paramref name="destination"/> and copies the answer back.</summary>
    public ValueTask<ForwarderError> ForwardAsync(HttpContext context, UpstreamTransformer transformer, CancellationToken cancellationToken) =>
        forwarder.SendAsync(context, transformer.Destination.GetLeftPart(UriPartial.Authority), _client, RequestConfig, transformer, cancellationToken);

    public void Dispose() => _client.Dispose();
}
