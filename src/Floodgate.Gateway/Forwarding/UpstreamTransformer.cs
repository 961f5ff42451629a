using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Floodgate.Gateway.Forwarding;

/// <summary>
/// YARP's default copying plus the gateway's rules: the request goes to <see cref="Destination"/>; whatever credential
/// the client sent (its gateway key) is dropped and the upstream's key put in its place; compression is not asked for,
/// so usage can be read from the answer; the answer's status and rate-limit headers are handed to
/// <see cref="Answered"/> before they are copied to the client.
/// </summary>
internal sealed class UpstreamTransformer(Uri destination, string? upstreamKey) : HttpTransformer
{
    // Credentials and routing of the client side; none of them may reach the upstream.
    private static readonly string[] ClientOnlyHeaders =
        [HeaderNames.Authorization, "api-key", "x-api-key", HeaderNames.Cookie, GatewayConstants.UpstreamHeader, HeaderNames.AcceptEncoding];

    public Uri Destination { get; } = destination;

    /// <summary>The upstream's answer (status and headers; its body streams on); null until it answered.</summary>
    public HttpResponseMessage? Answered { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = Destination;
        foreach (var header in ClientOnlyHeaders)
        {
            proxyRequest.Headers.Remove(header);
        }

        if (upstreamKey is not null)
        {
            proxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", upstreamKey);
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        Answered = proxyResponse;
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        httpContext.Response.Headers.Remove(HeaderNames.SetCookie);
        return copyBody;
    }
}
