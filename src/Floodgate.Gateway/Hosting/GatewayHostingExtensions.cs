using Floodgate.Client.Hosting;
using Floodgate.Gateway.Admission;
using Floodgate.Gateway.Authentication;
using Floodgate.Gateway.Forwarding;
using Floodgate.Grains.Limiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Floodgate.Gateway.Hosting;

/// <summary>Registers and maps the OpenAI-compatible gateway on a silo's web host.</summary>
public static class GatewayHostingExtensions
{
    /// <summary>
    /// The gateway's services: options (section <c>Floodgate:Gateway</c>, validated at start), the YARP forwarder, the
    /// virtual-key authentication scheme and its policy, and the limits each upstream and tenant gives its limiter.
    /// </summary>
    public static IServiceCollection AddFloodgateGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddFloodgateClient();
        services.AddHttpForwarder();
        services.TryAddSingleton<UpstreamForwarder>();
        services.TryAddSingleton<GatewayKeyRing>();
        services.TryAddSingleton<GatewayProxy>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, GatewayKeyAuthenticationHandler>(GatewayKeyDefaults.Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(GatewayKeyDefaults.Policy, policy => policy
            .AddAuthenticationSchemes(GatewayKeyDefaults.Scheme)
            .RequireAuthenticatedUser());

        // Upstream accounts and tenants configure their limiters through the silo's limiter configuration, so every silo
        // (each reads the same settings) gives a limiter the same limits. Explicit Floodgate:Limiters entries win.
        // Read from configuration, not from the validated options: a bad gateway setting is reported once, by its own
        // validator, rather than again through every options type that depends on it.
        services.AddOptions<LimiterOptions>().PostConfigure(limiters => ConfigureLimiters(limiters, Unvalidated(configuration)));
        return services;
    }

    /// <summary>
    /// Maps <c>POST /v1/chat/completions</c>, <c>/v1/completions</c>, <c>/v1/embeddings</c> and <c>GET /v1/models</c>,
    /// for the default upstream (or the one in the <c>X-Floodgate-Upstream</c> header) and under
    /// <c>/upstreams/{name}/v1/…</c> for a named one; all behind the gateway key scheme.
    /// </summary>
    public static IEndpointRouteBuilder MapFloodgateGateway(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in new[] { string.Empty, GatewayConstants.UpstreamRoutePrefix })
        {
            var v1 = app.MapGroup(prefix + "/v1").RequireAuthorization(GatewayKeyDefaults.Policy);
            v1.MapPost("/chat/completions", Handle(OpenAiEndpoint.ChatCompletions));
            v1.MapPost("/completions", Handle(OpenAiEndpoint.Completions));
            v1.MapPost("/embeddings", Handle(OpenAiEndpoint.Embeddings));
            v1.MapGet("/models", Handle(OpenAiEndpoint.Models));
        }

        return app;
    }

    private static RequestDelegate Handle(OpenAiEndpoint endpoint) =>
        context => context.RequestServices.GetRequiredService<GatewayProxy>().HandleAsync(context, endpoint);

    private static GatewayOptions Unvalidated(IConfiguration configuration)
    {
        try
        {
            return configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException)
        {
            return new GatewayOptions(); // A value that does not convert: the start-up check names it.
        }
    }

    /// <summary>Copies the limits of upstreams and tenants into the limiter configuration; values out of range are left to the gateway's validator.</summary>
    internal static void ConfigureLimiters(LimiterOptions limiters, GatewayOptions gateway)
    {
        foreach (var (name, upstream) in gateway.Upstreams)
        {
            var limiter = upstream.Limiter ?? GatewayConstants.DefaultLimiter(name);
            if (upstream is null || !GatewayOptionsValidator.IsUpstreamName(name) || (upstream.Limiter is { } named && Validation.Names.Check("Limiter", named) is not null))
            {
                continue;
            }

            if (upstream.MaxConcurrency is { } max and > 0 and <= FloodgateDefaults.MaxConcurrencyLimit)
            {
                limiters.Limits.TryAdd(limiter, max);
            }

            if (upstream.RequestsPerMinute is { } rpm and > 0 and <= Limiting.LimiterLimitsValidator.MaxRequestsPerMinute)
            {
                limiters.RequestsPerMinute.TryAdd(limiter, rpm);
            }

            if (upstream.TokensPerMinute is { } tpm and > 0 and <= Limiting.LimiterLimitsValidator.MaxTokensPerMinute)
            {
                limiters.TokensPerMinute.TryAdd(limiter, tpm);
            }
        }

        foreach (var key in gateway.Keys.Where(k => k is not null && Validation.Names.Check("Tenant", k.Tenant) is null && (k.MaxConcurrency is not null || k.RequestsPerMinute is not null)))
        {
            var limiter = GatewayConstants.TenantLimiter(key.Tenant!);
            if (key.MaxConcurrency is not { } keyMax || keyMax is > 0 and <= FloodgateDefaults.MaxConcurrencyLimit)
            {
                limiters.Limits.TryAdd(limiter, key.MaxConcurrency ?? FloodgateDefaults.MaxConcurrencyLimit);
            }

            if (key.RequestsPerMinute is { } rpm and > 0 and <= Limiting.LimiterLimitsValidator.MaxRequestsPerMinute)
            {
                limiters.RequestsPerMinute.TryAdd(limiter, rpm);
            }
        }
    }
}
