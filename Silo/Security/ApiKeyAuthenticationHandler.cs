using System.Security.Claims;
using System.Text.Encodings.Web;
using Floodgate.Silo.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Floodgate.Silo.Security;

/// <summary>
/// The <c>ApiKey</c> authentication scheme: a known key (see <see cref="ApiKeyRing.PresentedKey"/>) signs the caller in
/// with the role it opens; no key is no result; an unknown key is a failure. Challenges and refusals are answered with
/// the API's problem+json bodies, for every endpoint that requires a key.
/// </summary>
internal sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The claim type carrying the role a key opens (<see cref="ApiRole"/>, lower case).</summary>
    public const string RoleClaim = ClaimTypes.Role;

    /// <summary>Item (request and authentication properties) carrying why a caller was refused: an <see cref="ApiKeyDecision"/>.</summary>
    public const string RefusalItem = "floodgate.refusal";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiKeyRing.PresentedKey(Request.Headers) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (keys.Identify(key) is not { } role)
        {
            return Task.FromResult(AuthenticateResult.Fail(ApiKeyMessages.Unrecognised));
        }

        // The principal says what the key opens, never which key it was.
        var identity = new ClaimsIdentity([new Claim(RoleClaim, RoleName(role))], SchemeName, nameType: null, roleType: RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var decision = result.Failure is null ? ApiKeyDecision.Missing : ApiKeyDecision.Unrecognised;
        LogRefused(Logger, Request.Method, Request.Path, decision);

        // Bearer for programs; Basic so that a browser opening the dashboard asks for the key (as the password).
        Response.Headers.Append(HeaderNames.WWWAuthenticate, "Bearer");
        Response.Headers.Append(HeaderNames.WWWAuthenticate, "Basic realm=\"floodgate\", charset=\"UTF-8\"");
        await ApiProblems.Unauthorized(ApiKeyMessages.For(decision)).ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var decision = properties.Items.TryGetValue(RefusalItem, out var refusal) && Enum.TryParse<ApiKeyDecision>(refusal, out var parsed)
            ? parsed
            : ApiKeyDecision.NotAdmin;
        LogRefused(Logger, Request.Method, Request.Path, decision);
        await ApiProblems.Forbidden(ApiKeyMessages.For(decision)).ExecuteAsync(Context);
    }

    /// <summary>The role's claim value.</summary>
    public static string RoleName(ApiRole role) => role == ApiRole.Admin ? "admin" : "client";

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {Method} {Path} refused: {Decision}")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, ApiKeyDecision decision);
}

/// <summary>What a refused caller is told; names settings and headers, never a key.</summary>
internal static class ApiKeyMessages
{
    public static readonly string Missing =
        $"This endpoint needs an API key: send it as '{ApiDefaults.ApiKeyHeader}: <key>' or 'Authorization: Bearer <key>'.";

    public const string Unrecognised = "The API key sent is not valid on this silo.";

    public static readonly string NoAdminKeyConfigured =
        $"No admin key is configured on this silo; set {ApiOptions.SectionName}:AdminKeys.";

    public static readonly string NotAdmin =
        $"This endpoint needs an admin key ({ApiOptions.SectionName}:AdminKeys); the key sent is a client key.";

    public static string For(ApiKeyDecision decision) => decision switch
    {
        ApiKeyDecision.Missing => Missing,
        ApiKeyDecision.Unrecognised => Unrecognised,
        ApiKeyDecision.NoAdminKeyConfigured => NoAdminKeyConfigured,
        ApiKeyDecision.NotAdmin => NotAdmin,
        _ => throw new ArgumentOutOfRangeException(nameof(decision), decision, "Not a refusal."),
    };
}
