using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Floodgate.Silo.Api;

/// <summary>What an endpoint asks of its caller.</summary>
internal enum ApiRole
{
    /// <summary>Batches, leases, status: a client or admin key (or none when no client key is configured).</summary>
    Client = 0,

    /// <summary>Live limit changes: an admin key, always.</summary>
    Admin = 1,
}

/// <summary>The answer to "may this caller use an endpoint of that role?".</summary>
internal enum ApiKeyDecision
{
    Allowed = 0,
    Missing = 1,
    Unrecognised = 2,
    NoAdminKeyConfigured = 3,
    NotAdmin = 4,
}

/// <summary>
/// The configured keys, kept only as SHA-256 digests. A presented key is hashed and compared with every digest in
/// constant time, so neither timing nor key length tells a caller how close a guess was.
/// </summary>
internal sealed class ApiKeyRing(IOptions<ApiOptions> options)
{
    private readonly byte[][] _clientDigests = Digests(options.Value.ClientKeys);
    private readonly byte[][] _adminDigests = Digests(options.Value.AdminKeys);

    public ApiKeyDecision Authorize(string? presentedKey, ApiRole role)
    {
        if (role == ApiRole.Admin && _adminDigests.Length == 0)
        {
            return ApiKeyDecision.NoAdminKeyConfigured;
        }

        if (role == ApiRole.Client && _clientDigests.Length == 0)
        {
            return ApiKeyDecision.Allowed;
        }

        if (presentedKey is null)
        {
            return ApiKeyDecision.Missing;
        }

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        var isAdmin = MatchesAny(digest, _adminDigests);
        var isClient = MatchesAny(digest, _clientDigests);
        return (role, isAdmin, isClient) switch
        {
            (_, true, _) => ApiKeyDecision.Allowed,
            (ApiRole.Client, false, true) => ApiKeyDecision.Allowed,
            (ApiRole.Admin, false, true) => ApiKeyDecision.NotAdmin,
            _ => ApiKeyDecision.Unrecognised,
        };
    }

    /// <summary>The key from <c>X-Api-Key</c> or <c>Authorization: Bearer</c>; null when neither is sent.</summary>
    public static string? PresentedKey(IHeaderDictionary headers)
    {
        if (headers.TryGetValue(ApiDefaults.ApiKeyHeader, out var apiKey))
        {
            return Single(apiKey);
        }

        if (headers.TryGetValue(HeaderNames.Authorization, out var authorization))
        {
            const string scheme = "Bearer ";
            var value = Single(authorization);
            return value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? value[scheme.Length..].Trim() : value;
        }

        return null;

        // Several values or another scheme never match a digest; they are answered as a wrong key, not as no key.
        static string Single(StringValues values) => values.Count == 1 ? values[0] ?? string.Empty : string.Empty;
    }

    private static bool MatchesAny(byte[] digest, byte[][] digests)
    {
        var match = false;
        foreach (var candidate in digests)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, candidate);
        }

        return match;
    }

    private static byte[][] Digests(IEnumerable<string>? keys) =>
        (keys ?? []).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
}

/// <summary>Refuses a request before its handler runs unless the caller's key fits the endpoint's role.</summary>
internal sealed partial class ApiKeyFilter(ApiRole role) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var keys = http.RequestServices.GetRequiredService<ApiKeyRing>();
        var decision = keys.Authorize(ApiKeyRing.PresentedKey(http.Request.Headers), role);
        if (decision == ApiKeyDecision.Allowed)
        {
            return await next(context);
        }

        var logger = http.RequestServices.GetRequiredService<ILogger<ApiKeyFilter>>();
        LogRefused(logger, http.Request.Method, http.Request.Path, decision);
        if (decision is ApiKeyDecision.Missing or ApiKeyDecision.Unrecognised)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return decision switch
        {
            ApiKeyDecision.Missing => ApiProblems.Unauthorized(
                $"This endpoint needs an API key: send it as '{ApiDefaults.ApiKeyHeader}: <key>' or 'Authorization: Bearer <key>'."),
            ApiKeyDecision.Unrecognised => ApiProblems.Unauthorized("The API key sent is not valid on this silo."),
            ApiKeyDecision.NoAdminKeyConfigured => ApiProblems.Forbidden(
                $"No admin key is configured on this silo; set {ApiOptions.SectionName}:AdminKeys."),
            _ => ApiProblems.Forbidden(
                $"This endpoint needs an admin key ({ApiOptions.SectionName}:AdminKeys); the key sent is a client key."),
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API request {Method} {Path} refused: {Decision}")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, ApiKeyDecision decision);
}

/// <summary>Attaching the key check to endpoints.</summary>
internal static class ApiKeyEndpointExtensions
{
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, ApiRole role)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ApiKeyFilter(role));
}
