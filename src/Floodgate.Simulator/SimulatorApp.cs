using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Floodgate.Simulator;

/// <summary>
/// The wiring shared by the standalone program and <see cref="SimulatorServer"/>: services, logging defaults and endpoints.
/// </summary>
internal static class SimulatorApp
{
    /// <summary>Address the standalone simulator listens on when no URL is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5090";

    /// <summary>
    /// Registers the simulator on <paramref name="builder"/>, builds the application and maps its endpoints.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid.</exception>
    public static WebApplication Build(WebApplicationBuilder builder, SimulatorOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid(nameof(options));

        // Quiet by default: framework categories only at Warning unless configuration says otherwise.
        foreach (string category in new[] { "Microsoft", "System" })
        {
            if (builder.Configuration[$"Logging:LogLevel:{category}"] is null)
            {
                builder.Logging.AddFilter(category, LogLevel.Warning);
            }
        }

        // The TimeProvider is deliberately not registered in DI, so a fake clock only affects the simulation, not Kestrel.
        builder.Services.AddSingleton(new SimulatorState(options.Clone(), timeProvider ?? TimeProvider.System));
        builder.Services.AddSingleton<ChatCompletionsEndpoint>();
        builder.Services.AddSingleton<PredictionsEndpoint>();

        WebApplication app = builder.Build();
        MapSimulator(app);
        return app;
    }

    /// <summary>Maps the chat, stats and health endpoints. Requires the services registered by <see cref="Build"/>.</summary>
    public static void MapSimulator(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        SimulatorState state = app.Services.GetRequiredService<SimulatorState>();
        ChatCompletionsEndpoint chat = app.Services.GetRequiredService<ChatCompletionsEndpoint>();

        app.MapPost("/v1/chat/completions", (RequestDelegate)chat.HandleAsync);
        app.MapPost("/v1/completions", (RequestDelegate)chat.HandleCompletionsAsync);
        app.MapPost("/v1/embeddings", (RequestDelegate)chat.HandleEmbeddingsAsync);
        app.MapGet("/v1/models", (RequestDelegate)chat.HandleModelsAsync);
        PredictionsEndpoint predictions = app.Services.GetRequiredService<PredictionsEndpoint>();
        app.MapPost("/v1/models/{owner}/{name}/predictions", (RequestDelegate)predictions.HandleCreateAsync);
        app.MapPost("/v1/predictions", (RequestDelegate)predictions.HandleCreateAsync);
        app.MapGet("/v1/predictions/{id}", (RequestDelegate)predictions.HandleGetAsync);
        app.MapPost("/v1/predictions/{id}/cancel", (RequestDelegate)predictions.HandleCancelAsync);
        app.MapGet("/stats/tokens", () => Results.Json(state.GetTokenStats(), JsonSerializerOptions.Web));
        app.MapGet("/stats", () => Results.Json(state.GetStats(), JsonSerializerOptions.Web));
        app.MapPost("/stats/reset", () =>
        {
            state.ResetStats();
            return Results.NoContent();
        });
        app.MapGet("/health", () => Results.Json(new HealthResponse("ok"), JsonSerializerOptions.Web));
    }

    /// <summary>
    /// Binds <see cref="SimulatorOptions"/> from the <see cref="SimulatorOptions.SectionName"/> section and validates them.
    /// Unknown keys in the section (typos) and unconvertible values are reported as errors too.
    /// </summary>
    public static bool TryLoadOptions(IConfiguration configuration, [NotNullWhen(true)] out SimulatorOptions? options, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        SimulatorOptions bound;
        try
        {
            bound = configuration.GetSection(SimulatorOptions.SectionName)
                .Get<SimulatorOptions>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new SimulatorOptions();
        }
        catch (InvalidOperationException ex)
        {
            options = null;
            errors = [ex.Message];
            return false;
        }

        errors = bound.Validate();
        options = errors.Count == 0 ? bound : null;
        return options is not null;
    }

    /// <summary>Listens on <see cref="DefaultUrl"/> unless URLs, ports or Kestrel endpoints are configured.</summary>
    public static void UseDefaultUrlIfNoneConfigured(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IConfiguration config = builder.Configuration;
        bool configured = !string.IsNullOrWhiteSpace(config["urls"])
            || !string.IsNullOrWhiteSpace(config["http_ports"])
            || !string.IsNullOrWhiteSpace(config["https_ports"])
            || config.GetSection("Kestrel:Endpoints").Exists();
        if (!configured)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
    }

    private sealed record HealthResponse(string Status);
}
