using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Floodgate.ProcessCluster.Processes;

namespace Floodgate.ProcessCluster.Simulator;

/// <summary>
/// The upstream model API as its own process (<c>dotnet Floodgate.Simulator.dll</c>). It counts from the outside how
/// many requests were in flight at once, so over-admission shows there whatever Floodgate's own counters say.
/// </summary>
public sealed class SimulatorProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private SimulatorProcess(ChildProcess process, int port)
    {
        _process = process;
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The OpenAI-compatible base URL (the silos' <c>Floodgate:Processors:OpenAiChat:BaseUrl</c>).</summary>
    public Uri BaseUrl { get; }

    public string LogPath => _process.LogPath;

    /// <summary>Starts the simulator; <paramref name="settings"/> are its <c>Simulator:*</c> options.</summary>
    public static async Task<SimulatorProcess> StartAsync(
        string logDirectory,
        SimulatorSettings settings,
        CancellationToken cancellationToken = default)
    {
        var port = FreePort.Next();
        var process = ChildProcess.Start(
            "simulator",
            Programs.Dotnet,
            [
                Programs.SimulatorDll,
                $"--urls=http://127.0.0.1:{port}",
                $"--Simulator:MaxConcurrency={settings.MaxConcurrency}",
                $"--Simulator:LatencyMs={settings.LatencyMs}",
                $"--Simulator:LatencyJitterMs={settings.LatencyJitterMs}",
            ],
            Path.Combine(logDirectory, "simulator.log"));
        var simulator = new SimulatorProcess(process, port);
        var deadline = Timeline.Now + TimeSpan.FromSeconds(30);
        while (Timeline.Now < deadline && !process.HasExited)
        {
            try
            {
                using var cts = HarnessHttp.Within(TimeSpan.FromSeconds(2), cancellationToken);
                using var response = await HarnessHttp.Client.GetAsync(new Uri(simulator.BaseUrl, "health"), cts.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return simulator;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(100, cancellationToken);
        }

        await process.DisposeAsync();
        throw new InvalidOperationException($"The simulator did not start; see {process.LogPath}:\n{process.Tail()}");
    }

    /// <summary>The simulator's counters (<c>GET /stats</c>).</summary>
    public async Task<UpstreamStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        using var cts = HarnessHttp.Within(TimeSpan.FromSeconds(5), cancellationToken);
        return await HarnessHttp.Client.GetFromJsonAsync<UpstreamStats>(new Uri(BaseUrl, "stats"), JsonSerializerOptions.Web, cts.Token)
            ?? throw new InvalidOperationException("The simulator answered /stats with null.");
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>Options of the simulator process (section <c>Simulator</c>).</summary>
/// <param name="MaxConcurrency">The account's concurrency; 0 = unlimited, so over-admission shows as a count, not as 429s.</param>
/// <param name="LatencyMs">Time each request takes.</param>
/// <param name="LatencyJitterMs">Extra time, uniform in [0, jitter].</param>
public sealed record SimulatorSettings(int MaxConcurrency = 0, int LatencyMs = 100, int LatencyJitterMs = 100);

/// <summary>The simulator's <c>GET /stats</c> answer (the fields the harness reads).</summary>
/// <param name="TotalRequests">Chat requests received.</param>
/// <param name="Completed">Answered 200.</param>
/// <param name="RateLimited">Answered 429.</param>
/// <param name="ServerErrors">Answered 5xx.</param>
/// <param name="CurrentConcurrent">In flight now.</param>
/// <param name="MaxConcurrent">Most in flight at once since the simulator started.</param>
public sealed record UpstreamStats(
    long TotalRequests,
    long Completed,
    long RateLimited,
    long ServerErrors,
    int CurrentConcurrent,
    int MaxConcurrent);
