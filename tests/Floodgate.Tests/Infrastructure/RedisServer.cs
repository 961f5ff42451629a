using System.Diagnostics;
using System.Net.Sockets;
using Floodgate.Silo.Hosting;

namespace Floodgate.Tests.Infrastructure;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port, without persistence. In CI (<c>CI=true</c>) a missing
/// binary is a failure; locally the tests that need it are skipped with a reason.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Why Redis tests cannot run here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (FindBinary() is not null)
        {
            return null;
        }

        var reason = "redis-server is not installed (apt-get install -y redis-server); .ci/run installs it.";
        return Environment.GetEnvironmentVariable("CI") == "true"
            ? throw new InvalidOperationException(reason)
            : reason;
    }

    public static async Task<RedisServer> StartAsync()
    {
        var binary = FindBinary() ?? throw new InvalidOperationException("redis-server is not installed.");
        var port = FreeTcpPort.Next();
        var process = Process.Start(new ProcessStartInfo(binary, $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return new RedisServer(process, port);
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        process.Kill();
        throw new InvalidOperationException($"redis-server did not listen on port {port}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static string? FindBinary() =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
}
