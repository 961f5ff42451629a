using System.Net;
using System.Net.Sockets;

namespace Floodgate.ProcessCluster.Processes;

/// <summary>Free loopback TCP ports, asked from the OS (never fixed numbers, which other runs on the machine may use).</summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A port nobody listens on now and that this process has not handed out before.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Handed)
            {
                // A port given to a process that has not bound it yet is still "free" to the OS.
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("No free loopback port found.");
    }
}
