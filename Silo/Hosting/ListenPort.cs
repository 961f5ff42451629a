using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Floodgate.Silo.Hosting;

/// <summary>
/// The addresses a silo is about to listen on (HTTP, silo-to-silo, gateway), and which of them another process already
/// holds: checked before start, so a port in use is one line naming it rather than a failure deep inside Kestrel or Orleans.
/// </summary>
public sealed record ListenPort(string What, string Setting, IPEndPoint Endpoint, string Display)
{
    /// <summary>Kestrel's default when no <c>urls</c> are configured.</summary>
    private const string DefaultUrls = "http://localhost:5000";

    /// <summary>Every endpoint the built host will bind: HTTP from <c>urls</c>, silo and gateway from Orleans' options.</summary>
    public static IReadOnlyList<ListenPort> Of(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var ports = new List<ListenPort>();
        foreach (var url in (app.Configuration["urls"] is { Length: > 0 } urls ? urls : DefaultUrls)
                     .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (HttpEndpoint(url) is { } endpoint)
            {
                ports.Add(new ListenPort("HTTP", "Urls", endpoint, url));
            }
        }

        var orleans = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        var silo = orleans.SiloListeningEndpoint ?? new IPEndPoint(orleans.AdvertisedIPAddress ?? IPAddress.Loopback, orleans.SiloPort);
        ports.Add(new ListenPort("silo", $"{SiloOptions.SectionName}:SiloPort", silo, silo.ToString()));
        if (orleans.GatewayPort > 0)
        {
            var gateway = orleans.GatewayListeningEndpoint ?? new IPEndPoint(orleans.AdvertisedIPAddress ?? IPAddress.Loopback, orleans.GatewayPort);
            ports.Add(new ListenPort("gateway", $"{SiloOptions.SectionName}:GatewayPort", gateway, gateway.ToString()));
        }

        return ports;
    }

    /// <summary>True when binding this endpoint now fails because the address is in use.</summary>
    public bool IsInUse()
    {
        if (Endpoint.Port == 0)
        {
            return false;
        }

        using var socket = new Socket(Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (Endpoint.AddressFamily == AddressFamily.InterNetworkV6 && Endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }

        try
        {
            socket.Bind(Endpoint);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            // Address not available here (no IPv6, say): the real bind reports that itself.
            return false;
        }
    }

    /// <summary>The one-line error for this endpoint in use.</summary>
    public string InUseMessage() =>
        $"error: the {What} port {Endpoint.Port} ({Display}, {Setting}) is already in use by another process";

    private static IPEndPoint? HttpEndpoint(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null; // Kestrel rejects it at start with its own message.
        }

        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return null;
        }

        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, address.Port);
        }

        return IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip)
            ? new IPEndPoint(ip, address.Port)
            : new IPEndPoint(IPAddress.IPv6Any, address.Port); // *, +, a host name: Kestrel listens on every address.
    }
}
