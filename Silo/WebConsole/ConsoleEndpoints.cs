using System.Reflection;
using Floodgate.Silo.Security;

namespace Floodgate.Silo.WebConsole;

/// <summary>
/// The Floodgate console at <see cref="Path"/>: a page (HTML, JS, CSS embedded in the silo's assembly, no build step)
/// that polls the HTTP API every second. Behind the client policy like the API, so a browser asks for the key (Basic,
/// the key as the password) and sends it with every call the page makes; limit changes and cancel need an admin key, as
/// over the API. <c>/</c> is a list of links (no data) to the console, the dashboard and the API document.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>Where the console is served.</summary>
    public const string Path = "/console";

    private const string ResourcePrefix = "Floodgate.Silo.WebConsole.";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    public static IEndpointRouteBuilder MapFloodgateConsole(this IEndpointRouteBuilder app, bool dashboard)
    {
        app.MapGet("/", () => Results.Content(LandingPage(dashboard), "text/html; charset=utf-8")).ExcludeFromDescription();

        var console = app.MapGroup(Path).RequireApiKey(ApiRole.Client).ExcludeFromDescription();
        console.MapGet("", () => Asset("index.html")); // also /console/: routing ignores a trailing slash
        console.MapGet("/{file}", (string file) => Asset(file));

        // What the caller's key opens, so the page shows admin controls only to admin keys (the API checks again).
        console.MapGet("/session", (HttpContext http) => Results.Json(new ConsoleSession(
            http.User.IsInRole(ApiKeyAuthenticationHandler.RoleName(ApiRole.Admin)) ? "admin"
            : http.User.IsInRole(ApiKeyAuthenticationHandler.RoleName(ApiRole.Client)) ? "client"
            : "open")));
        return app;
    }

    private static IResult Asset(string file)
    {
        if (!ContentTypes.TryGetValue(file, out var contentType)
            || Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + file) is not { } stream)
        {
            return Results.NotFound();
        }

        return Results.Stream(stream, contentType);
    }

    private static string LandingPage(bool dashboard) => $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Floodgate</title>
        <style>body{"{"}font:15px system-ui,sans-serif;margin:3rem;color:#1d2330{"}"} a{"{"}color:#2458c6{"}"} li{"{"}margin:.4rem 0{"}"}</style></head>
        <body><h1>Floodgate</h1><ul>
        <li><a href="{Path}">Console</a>: limiters, batches and breakers, live (client key; admin key to change limits or cancel)</li>
        {(dashboard ? "<li><a href=\"/dashboard/\">Orleans dashboard</a>: grains, silos and call rates (client key)</li>" : "")}
        <li><a href="/openapi/v1.json">OpenAPI document</a> of the HTTP API under <code>/api</code></li>
        <li><a href="/health">Health</a> (<code>/health/live</code>, <code>/health/ready</code>) and <a href="/metrics">metrics</a></li>
        </ul></body></html>
        """;
}

/// <summary>What <c>/console/session</c> answers: the role of the caller's key (<c>admin</c>, <c>client</c>, or <c>open</c> without keys).</summary>
internal sealed record ConsoleSession(string Role);
