using System.Net;
using Floodgate.Client.Hosting;
using Floodgate.Gateway.Hosting;
using Floodgate.Grains.Draining;
using Floodgate.Grains.Hosting;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.Telemetry;
using Floodgate.Silo.Api;
using Floodgate.Silo.WebConsole;
using Floodgate.Silo.Health;
using Floodgate.Silo.Hosting.WarmUp;
using Floodgate.Silo.Security;
using Floodgate.Validation;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Diagnostics;
using StackExchange.Redis;

namespace Floodgate.Silo.Hosting;

/// <summary>Builds the silo web host: Orleans + Floodgate grains + dashboard + HTTP endpoints. Shared by <c>run</c> and <c>demo</c>.</summary>
public static class FloodgateSiloHost
{
    /// <summary>Where Prometheus scrapes the <c>floodgate_*</c> metrics (text format; a client key only with <c>Api:MetricsRequireKey</c>).</summary>
    public const string MetricsPath = "/metrics";

    // The runtime's own sources: ASP.NET Core's incoming requests and HttpClient's outgoing calls (upstream model calls).
    private const string AspNetCoreSource = "Microsoft.AspNetCore";
    private const string HttpClientSource = "System.Net.Http";

    /// <summary>
    /// Creates the host. Configuration: appsettings.json, environment (<c>Floodgate__Silo__GatewayPort=30001</c>), command line,
    /// then <paramref name="overrides"/> (used by the demo and tests). Throws <see cref="FloodgateValidationException"/>
    /// for invalid silo options before anything starts.
    /// </summary>
    /// <summary>What the host allows for Orleans' own stop (deactivations, hand-overs) after the drain.</summary>
    private static readonly TimeSpan ShutdownAfterDrain = TimeSpan.FromSeconds(30);

    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var silo = builder.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();
        var errors = silo.Validate();
        if (errors.Count > 0)
        {
            throw new FloodgateValidationException(errors);
        }

        builder.UseOrleans(orleans =>
        {
            orleans.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = silo.ClusterId;
                o.ServiceId = silo.ServiceId;
            });
            if (silo.Clustering == ClusteringMode.Redis)
            {
                var redis = ConfigurationOptions.Parse(silo.RedisConnectionString!);
                orleans.UseRedisClustering(o => o.ConfigurationOptions = redis);
                orleans.AddRedisGrainStorageAsDefault(o =>
                {
                    o.ConfigurationOptions = redis;

                    // An expired batch's chunks must leave Redis, not stay as empty keys.
                    o.DeleteStateOnClear = true;
                });
                orleans.UseRedisReminderService(o => o.ConfigurationOptions = redis);
                if (silo.FastFailureDetection)
                {
                    orleans.UseFastFailureDetection();
                }

                orleans.ConfigureEndpoints(
                    silo.AdvertisedIp is null ? IPAddress.Loopback : IPAddress.Parse(silo.AdvertisedIp),
                    silo.SiloPort,
                    silo.GatewayPort,
                    listenOnAnyHostAddress: silo.AdvertisedIp is not null);
            }
            else
            {
                orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
                orleans.AddMemoryGrainStorageAsDefault();
                orleans.UseInMemoryReminderService();

                // In-memory storage dies with this silo: a hand-over would have no reader, and at shutdown the storage
                // grains are already gone.
                orleans.Services.PostConfigure<LimiterOptions>(o => o.HandOverOnDeactivation = false);
            }

            if (silo.Dashboard)
            {
                orleans.AddDashboard();
            }

            orleans.AddFloodgate(builder.Configuration);

            // Activity.Current rides along every grain call, so an HTTP request, its batch and the batch's items share one trace.
            orleans.AddActivityPropagation();
        });

        // SIGTERM: let item runs finish (DrainTimeout), then leave Orleans time to deactivate and hand grains over.
        // A single in-memory silo takes its batches down with it: nothing to finish for.
        builder.Services.Configure<DrainOptions>(o => o.Timeout = silo.Clustering == ClusteringMode.Redis ? silo.DrainTimeout : TimeSpan.Zero);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = silo.DrainTimeout + ShutdownAfterDrain);

        builder.Services.AddFloodgateClient();
        builder.Services.AddFloodgateApi(builder.Configuration);
        builder.Services.AddFloodgateGateway(builder.Configuration);
        builder.Services.AddFloodgateHealthChecks(silo);
        builder.Services.AddFloodgateWarmUp(silo.WarmUp);
        AddFloodgateMetrics(builder);

        var app = builder.Build();
        app.UseMiddleware<StoppingGate>();
        app.MapFloodgateHealth();
        app.MapFloodgateApi();
        app.MapFloodgateGateway();
        var metrics = app.MapPrometheusScrapingEndpoint(MetricsPath);
        if (app.Configuration.GetValue<bool>($"{ApiOptions.SectionName}:{nameof(ApiOptions.MetricsRequireKey)}"))
        {
            metrics.RequireApiKey(ApiRole.Client);
        }

        if (silo.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard").RequireApiKey(ApiRole.Client);
        }

        app.MapFloodgateConsole(silo.Dashboard);

        return app;
    }

    /// <summary>
    /// Exports the <see cref="FloodgateMetrics.MeterName"/> meter at <see cref="MetricsPath"/>, and, when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, metrics and traces by OTLP too (the exporter reads that and the other
    /// <c>OTEL_EXPORTER_OTLP_*</c> variables itself). Traces: Floodgate's spans (<see cref="FloodgateTracing"/>), Orleans'
    /// grain calls (which carry the trace context between grains), incoming HTTP requests and outgoing HTTP calls.
    /// </summary>
    private static void AddFloodgateMetrics(WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? "floodgate";
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FloodgateMetrics.MeterName).AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(FloodgateTracing.SourceName, ActivitySources.ApplicationGrainActivitySourceName, AspNetCoreSource, HttpClientSource)
                .AddOtlpExporter());
        }
    }
}
