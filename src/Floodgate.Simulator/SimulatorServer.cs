using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration.Memory;

namespace Floodgate.Simulator;

/// <summary>
/// An in-process simulator of an AI model provider account (a real Kestrel server) for demos, integration tests and
/// benchmarks. It measures from the outside how many requests a client really had in flight.
/// </summary>
/// <remarks>
/// <para>Endpoints:</para>
/// <list type="bullet">
/// <item><c>POST /v1/chat/completions</c>: OpenAI-compatible chat completion enforcing
/// <see cref="SimulatorOptions.MaxConcurrency"/> and <see cref="SimulatorOptions.RequestsPerMinute"/>
/// (<c>429</c> with <c>Retry-After</c>), <see cref="SimulatorOptions.ApiKey"/> (<c>401</c>) and answering
/// <c>400</c> for an invalid body.</item>
/// <item><c>GET /stats</c>: <see cref="SimulatorStats"/> as camelCase JSON; <c>POST /stats/reset</c>: <see cref="ResetStats"/>, <c>204</c>.</item>
/// <item><c>GET /health</c>: <c>{"status":"ok"}</c>.</item>
/// </list>
/// <para>Fault triggers, written anywhere in the last user message, make tests deterministic:</para>
/// <list type="bullet">
/// <item><c>[fail:NNN]</c>: always answer with status <c>NNN</c> (400–599) and an OpenAI-style error body
/// (<c>429</c> also sends <c>Retry-After</c>).</item>
/// <item><c>[fail-first:K:NNN]</c>: the first <c>K</c> requests with the same key answer <c>NNN</c>, later ones succeed.
/// The key is the <c>Idempotency-Key</c> request header when present, otherwise the prompt text.</item>
/// </list>
/// <para>Triggers apply only to requests that passed the concurrency and requests-per-minute checks, after the
/// simulated latency, so a failing request also occupies a slot for <see cref="SimulatorOptions.LatencyMs"/>.
/// A trigger with a status outside 400–599 is answered with <c>400</c> straight away.
/// They are counted as <see cref="SimulatorStats.ClientErrors"/> (4xx except 429),
/// <see cref="SimulatorStats.RateLimited"/> (429) or <see cref="SimulatorStats.ServerErrors"/> (5xx).</para>
/// <para>The stats and health endpoints need no API key.</para>
/// </remarks>
public sealed class SimulatorServer : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly SimulatorState _state;
    private int _disposed;

    private SimulatorServer(WebApplication app, SimulatorState state, Uri baseUrl)
    {
        _app = app;
        _state = state;
        BaseUrl = baseUrl;
    }

    /// <summary>The address the server is actually bound to, ending with <c>/</c>, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Starts a simulator listening on <paramref name="url"/>.</summary>
    /// <param name="options">Limits and behaviour; copied, so later changes have no effect.</param>
    /// <param name="url">
    /// Address to listen on. Port <c>0</c> picks a free port (this needs an IP address such as <c>127.0.0.1</c>,
    /// not <c>localhost</c>); read the result from <see cref="BaseUrl"/>.
    /// </param>
    /// <param name="timeProvider">
    /// Clock for the requests-per-minute window, the simulated latency and response timestamps; <see cref="TimeProvider.System"/> when <see langword="null"/>.
    /// With a fake clock and <see cref="SimulatorOptions.LatencyMs"/> &gt; 0, requests wait until the clock is advanced.
    /// </param>
    /// <param name="cancellationToken">Cancels the start-up.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid (the message names every invalid option) or <paramref name="url"/> is empty.</exception>
    public static async Task<SimulatorServer> StartAsync(
        SimulatorOptions options,
        string url = "http://127.0.0.1:0",
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        options.ThrowIfInvalid(nameof(options));

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SimulatorServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        // Isolate the embedded server from the host process's configuration (appsettings.json, ASPNETCORE_* variables,
        // Kestrel endpoints, logging levels): only the arguments of this method matter. The in-memory sources hold the
        // host settings given above and take the settings made below.
        IList<IConfigurationSource> sources = builder.Configuration.Sources;
        for (int i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is not MemoryConfigurationSource)
            {
                sources.RemoveAt(i);
            }
        }

        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = StopTimeout);

        WebApplication app = SimulatorApp.Build(builder, options, timeProvider);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);

            IServerAddressesFeature? addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>();
            string address = addresses?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("The simulator started but reported no listening address.");

            return new SimulatorServer(app, app.Services.GetRequiredService<SimulatorState>(), new Uri(address.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The most chat requests naming <paramref name="model"/> that were handled at the same moment since the last reset.</summary>
    public int MaxConcurrentFor(string model) => _state.MaxConcurrentFor(model);

    /// <summary>Tokens of accepted requests; see <see cref="SimulatorTokenStats"/>.</summary>
    public SimulatorTokenStats GetTokenStats() => _state.GetTokenStats();

    /// <summary>A snapshot of the counters; see <see cref="SimulatorStats"/>.</summary>
    public SimulatorStats GetStats() => _state.GetStats();

    /// <summary>
    /// Zeroes all counters, including <see cref="SimulatorStats.MaxConcurrent"/> (which restarts from the requests
    /// still in flight, i.e. 0 when idle). <see cref="SimulatorStats.CurrentConcurrent"/> keeps the true in-flight count.
    /// The requests-per-minute window and <c>[fail-first]</c> attempt counts are limit state and are kept.
    /// </summary>
    public void ResetStats() => _state.ResetStats();

    /// <summary>Stops Kestrel (requests still waiting out their latency are answered <c>503</c>) and releases the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping took too long; disposing below tears the remaining connections down.
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
