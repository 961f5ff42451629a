using System.Net.Http.Headers;
using System.Text;
using Floodgate.Silo.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Floodgate.Api.Tests.Infrastructure;

/// <summary>
/// One real silo web host (Orleans + HTTP API on a free loopback port) shared by a test class. Subclasses choose the
/// API keys.
/// </summary>
public abstract class ApiSilo : IAsyncLifetime
{
    private WebApplication? _app;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The silo's gateway as <c>host:port</c>, for Orleans clients.</summary>
    public string Gateway => $"127.0.0.1:{_app!.Configuration["Floodgate:Silo:GatewayPort"]}";

    /// <summary>The silo's services, to look at the cluster past the API (its grains) and at the silo's own parts.</summary>
    public IServiceProvider Services => _app!.Services;

    /// <summary>The cluster id the silo runs with (each test silo has its own).</summary>
    public string ClusterId => _app!.Configuration["Floodgate:Silo:ClusterId"]!;

    /// <summary>Keys configured on the silo, to check that no response ever contains one.</summary>
    public virtual IReadOnlyList<string> ConfiguredKeys => [];

    protected virtual IEnumerable<KeyValuePair<string, string?>> ApiSettings => [];

    public async Task InitializeAsync()
    {
        _app = FloodgateSiloHost.Build([], SiloSettings(ApiSettings));
        await _app.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Settings of an embedded test silo plus <paramref name="api"/>.</summary>
    public static Dictionary<string, string?> SiloSettings(IEnumerable<KeyValuePair<string, string?>> api)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
            ["Floodgate:Silo:SiloPort"] = FreeTcpPort.Next().ToString(),
            ["Floodgate:Silo:GatewayPort"] = FreeTcpPort.Next().ToString(),
            ["Floodgate:Silo:ClusterId"] = "api-tests-" + Guid.NewGuid().ToString("N")[..8],
            ["Floodgate:Silo:Dashboard"] = "false",

            // The start-up warm-up keeps /health/ready at 503 for its first seconds; these tests use the silo at once
            // (WarmUpApiTests turns it on).
            ["Floodgate:Silo:WarmUp:Enabled"] = "false",
        };
        foreach (var (key, value) in api)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Sends a request; <paramref name="json"/> null sends no body; <paramref name="key"/> goes in X-Api-Key.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, string? key = null, string? bearer = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return Http.SendAsync(request, cancellationToken);
    }

    /// <summary>A limiter name no other test uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}:{Guid.NewGuid().ToString("N")[..12]}";
}

/// <summary>A silo with two client keys and one admin key.</summary>
public sealed class KeyedApiSilo : ApiSilo
{
    public string ClientKey { get; } = "client-1-" + Guid.NewGuid().ToString("N");

    public string SecondClientKey { get; } = "client-2-" + Guid.NewGuid().ToString("N");

    public string AdminKey { get; } = "admin-1-" + Guid.NewGuid().ToString("N");

    public override IReadOnlyList<string> ConfiguredKeys => [ClientKey, SecondClientKey, AdminKey];

    protected override IEnumerable<KeyValuePair<string, string?>> ApiSettings =>
    [
        new("Floodgate:Api:ClientKeys:0", ClientKey),
        new("Floodgate:Api:ClientKeys:1", SecondClientKey),
        new("Floodgate:Api:AdminKeys:0", AdminKey),
    ];
}

/// <summary>A silo with no API key configured (the local development default).</summary>
public sealed class OpenApiSilo : ApiSilo;
