using System.Net;
using Floodgate.ProcessCluster.Processes;

namespace Floodgate.ProcessCluster.Silos;

/// <summary>One <c>Silo</c> process (<c>dotnet Floodgate.Silo.dll</c>) with its own free silo, gateway and HTTP ports.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private SiloProcess(string name, ChildProcess process, int siloPort, int gatewayPort, int httpPort)
    {
        Name = name;
        Process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    /// <summary><c>silo-1</c>, <c>silo-2</c>, …; a restarted silo gets a new name and new ports.</summary>
    public string Name { get; }

    public ChildProcess Process { get; }

    /// <summary>Silo-to-silo port: the port of this silo's <c>SiloAddress</c> in Orleans membership.</summary>
    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int HttpPort { get; }

    /// <summary>The HTTP API, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>False once the process exited (killed or stopped).</summary>
    public bool IsRunning => !Process.HasExited;

    /// <summary>
    /// Starts a silo. <paramref name="settings"/> go on the command line (<c>--Key=Value</c>, visible in its log);
    /// <paramref name="secrets"/> go in the environment (<c>Floodgate__Api__AdminKeys__0</c>), so no log shows them.
    /// <paramref name="siloDll"/> runs another build of the silo (a published one, say) instead of <see cref="Programs.SiloDll"/>.
    /// </summary>
    public static SiloProcess Start(
        string name,
        string logDirectory,
        IReadOnlyDictionary<string, string> settings,
        IReadOnlyDictionary<string, string> secrets,
        string? siloDll = null)
    {
        siloDll ??= Programs.SiloDll;
        var (siloPort, gatewayPort, httpPort) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        var all = new Dictionary<string, string>(settings)
        {
            ["Urls"] = $"http://127.0.0.1:{httpPort}",
            ["Floodgate:Silo:SiloPort"] = siloPort.ToString(),
            ["Floodgate:Silo:GatewayPort"] = gatewayPort.ToString(),
        };
        var process = ChildProcess.Start(
            name,
            Programs.Dotnet,
            [siloDll, .. all.Select(kv => $"--{kv.Key}={kv.Value}")],
            Path.Combine(logDirectory, $"{name}.log"),
            secrets.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value),
            Path.GetDirectoryName(siloDll));
        return new SiloProcess(name, process, siloPort, gatewayPort, httpPort);
    }

    /// <summary>
    /// Waits until <c>GET /health</c> answers 200: the silo joined and answers a management call, and its start-up warm-up
    /// (when on) is over.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Timeline.Now + timeout;
        while (Timeline.Now < deadline)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited during start-up; see {Process.LogPath}:\n{Process.Tail()}");
            }

            try
            {
                using var cts = HarnessHttp.Within(TimeSpan.FromSeconds(5), cancellationToken);
                using var response = await HarnessHttp.Client.GetAsync(new Uri(BaseUrl, "health"), cts.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Process.Note("harness: ready");
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"{Name} was not healthy within {timeout.TotalSeconds} s; see {Process.LogPath}:\n{Process.Tail()}");
    }

    public override string ToString() => $"{Name} (pid {Process.Id}, silo port {SiloPort}, http {HttpPort})";

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
