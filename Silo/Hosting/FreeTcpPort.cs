using System.Net;
using System.Net.Sockets;

namespace Floodgate.Silo.Hosting;

/// <summary>Finds free loopback ports, so an embedded silo never collides with one already running.</summary>
public static class FreeTcpPort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
