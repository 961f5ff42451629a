using System.Net.Sockets;
using Floodgate.ProcessCluster.Processes;
using StackExchange.Redis;

namespace Floodgate.ProcessCluster.Redis;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port, without persistence: membership, grain storage and
/// reminders of one process cluster. In CI (<c>CI=true</c>) a missing binary is a failure; locally the tests that need
/// it are skipped with a reason (the same rule as <c>Floodgate.Tests</c>' <c>RedisServer</c>).
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private RedisProcess(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Why process tests cannot run here, or null when they can. Throws in CI, where they must run.</summary>
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

    public static async Task<RedisProcess> StartAsync(string logDirectory, CancellationToken cancellationToken = default)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException("redis-server is not installed.");
        var port = FreePort.Next();
        var process = ChildProcess.Start(
            "redis",
            binary,
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            Path.Combine(logDirectory, "redis.log"));
        for (var attempt = 0; attempt < 200 && !process.HasExited; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                return new RedisProcess(process, port);
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }

        await process.DisposeAsync();
        throw new InvalidOperationException($"redis-server did not listen on port {port}; see {process.LogPath}.");
    }

    /// <summary>Every key containing <paramref name="text"/> (e.g. a batch id: its records in grain storage).</summary>
    public async Task<IReadOnlyList<string>> KeysContainingAsync(string text)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: $"*{text}*"))
        {
            keys.Add(key.ToString());
        }

        return keys;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static string? FindBinary() =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, "redis-server")))
            .FirstOrDefault(File.Exists);
}
