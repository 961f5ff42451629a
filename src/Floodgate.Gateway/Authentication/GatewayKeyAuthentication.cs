using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Floodgate.Gateway.Authentication;

/// <summary>The gateway's own authentication scheme: virtual keys sent as <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
public static class GatewayKeyDefaults
{
    /// <summary>The scheme's name (apart from the HTTP API's own scheme).</summary>
    public const string Scheme = "FloodgateGatewayKey";

    /// <summary>The authorization policy the gateway endpoints require.</summary>
    public const string Policy = "FloodgateGateway";

    /// <summary>Claim carrying the tenant (the limiter holder) of the key.</summary>
    public const string TenantClaim = "floodgate:tenant";
}

/// <summary>
/// Authenticates a gateway request by its virtual key and names its tenant. With no key configured every request is a
/// request of the open tenant (local development). A missing or unknown key is challenged with 401 and an OpenAI-style
/// error body; the key is never logged or echoed.
/// </summary>
internal sealed partial class GatewayKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    GatewayKeyRing keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.IsOpen)
        {
            return Task.FromResult(Success(new GatewayTenant(GatewayConstants.OpenTenant, null, null)));
        }

        var authorization = Request.Headers[HeaderNames.Authorization];
        if (authorization.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var value = authorization.Count == 1 ? authorization[0] ?? string.Empty : string.Empty;
        var presented = value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) ? value[BearerPrefix.Length..].Trim() : string.Empty;
        if (presented.Length is 0 or > GatewayConstants.MaxKeyLength || keys.Find(presented) is not { } tenant)
        {
            LogRefused(Logger, Request.Path);
            return Task.FromResult(AuthenticateResult.Fail("The gateway key is not valid."));
        }

        return Task.FromResult(Success(tenant));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await OpenAiErrors.WriteAsync(
            Context,
            StatusCodes.Status401Unauthorized,
            "Missing or invalid gateway key. Send it as 'Authorization: Bearer <key>'.",
            "invalid_request_error",
            "invalid_api_key");
    }

    private AuthenticateResult Success(GatewayTenant tenant)
    {
        var identity = new ClaimsIdentity([new Claim(GatewayKeyDefaults.TenantClaim, tenant.Name)], Scheme.Name);
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name);
        Context.Features.Set(tenant);
        return AuthenticateResult.Success(ticket);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway request {Path} refused: unknown key")]
    private static partial void LogRefused(ILogger logger, PathString path);
}
