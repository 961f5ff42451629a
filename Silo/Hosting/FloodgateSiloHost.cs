using System.Net;
using Floodgate.Client.Hosting;
using Floodgate.Grains.Hosting;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.Telemetry;
using Floodgate.Silo.Api;
using Floodgate.Silo.Health;
using Floodgate.Validation;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Configuration;
using Orleans.Dashboard;
using StackExchange.Redis;

namespace Floodgate.Silo.Hosting;

/// <summary>Builds the silo web host: Orleans + Floodgate grains + dashboard + HTTP endpoints. Shared by <c>run</c> and <c>demo</c>.</summary>
public static class FloodgateSiloHost
{
    /// <summary>Where Prometheus scrapes the <c>floodgate_*</c> metrics (text format, no API key, like the dashboard).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// Creates the host. Configuration: appsettings.json, environment (<c>Floodgate__Silo__GatewayPort=30001</c>), command line,
    /// then <paramref name="overrides"/> (used by the demo and tests). Throws <see cref="FloodgateValidationException"/>
    /// for invalid silo options before anything starts.
    /// </summary>
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
        });

        builder.Services.AddFloodgateClient();
        builder.Services.AddFloodgateApi(builder.Configuration);
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster");
        AddFloodgateMetrics(builder);

        var app = builder.Build();
        app.MapFloodgateHealth();
        app.MapFloodgateApi();
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        if (silo.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard");
        }

        return app;
    }

    /// <summary>
    /// Exports the <see cref="FloodgateMetrics.MeterName"/> meter at <see cref="MetricsPath"/>, and by OTLP too when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads that and the other <c>OTEL_EXPORTER_OTLP_*</c> variables itself).
    /// </summary>
    private static void AddFloodgateMetrics(WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? "floodgate";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FloodgateMetrics.MeterName).AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
    }
}
