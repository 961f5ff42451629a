using System.Security.Cryptography;
using System.Text;
using Floodgate.Silo.Api;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Floodgate.Silo.Security;

/// <summary>What an endpoint asks of its caller, and what a key proves its caller is.</summary>
internal enum ApiRole
{
    /// <summary>Batches, leases, status, dashboard: a client or admin key (or none when no client key is configured).</summary>
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
    private const string BearerScheme = "Bearer ";
    private const string BasicScheme = "Basic ";

    private readonly byte[][] _clientDigests = Digests(options.Value.ClientKeys);
    private readonly byte[][] _adminDigests = Digests(options.Value.AdminKeys);

    /// <summary>False when no client key is configured: client endpoints are open (local development).</summary>
    public bool HasClientKeys => _clientDigests.Length > 0;

    /// <summary>False when no admin key is configured: admin endpoints are refused to everybody.</summary>
    public bool HasAdminKeys => _adminDigests.Length > 0;

    /// <summary>The role a key opens (admin wins when it is in both lists); null for a key the silo does not know.</summary>
    public ApiRole? Identify(string presentedKey)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));

        // Both lists are always searched, so the time taken does not tell which list (if any) holds the key.
        var isAdmin = MatchesAny(digest, _adminDigests);
        var isClient = MatchesAny(digest, _clientDigests);
        return isAdmin ? ApiRole.Admin : isClient ? ApiRole.Client : null;
    }

    /// <summary>The decision for a caller who sent <paramref name="presentedKey"/> (null: none) to an endpoint of <paramref name="role"/>.</summary>
    public ApiKeyDecision Authorize(string? presentedKey, ApiRole role) =>
        Decide(role, presentedKey is null ? null : Identify(presentedKey), keySent: presentedKey is not null);

    /// <summary>
    /// The one rule: <paramref name="caller"/> is the role the caller's key proved (null: no key, or an unknown one), and
    /// <paramref name="keySent"/> tells those two apart.
    /// </summary>
    public ApiKeyDecision Decide(ApiRole required, ApiRole? caller, bool keySent) => (required, caller) switch
    {
        (ApiRole.Admin, _) when !HasAdminKeys => ApiKeyDecision.NoAdminKeyConfigured,
        (ApiRole.Client, _) when !HasClientKeys => ApiKeyDecision.Allowed,
        (_, ApiRole.Admin) => ApiKeyDecision.Allowed,
        (ApiRole.Client, ApiRole.Client) => ApiKeyDecision.Allowed,
        (ApiRole.Admin, ApiRole.Client) => ApiKeyDecision.NotAdmin,
        _ => keySent ? ApiKeyDecision.Unrecognised : ApiKeyDecision.Missing,
    };

    /// <summary>
    /// The key from <c>X-Api-Key</c>, <c>Authorization: Bearer</c> or <c>Authorization: Basic</c> (the password, or the
    /// user name when the password is empty: what a browser's login prompt and Prometheus' <c>basic_auth</c> send);
    /// null when none of them is sent.
    /// </summary>
    public static string? PresentedKey(IHeaderDictionary headers)
    {
        if (headers.TryGetValue(ApiDefaults.ApiKeyHeader, out var apiKey))
        {
            return Single(apiKey);
        }

        if (headers.TryGetValue(HeaderNames.Authorization, out var authorization))
        {
            var value = Single(authorization);
            if (value.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase))
            {
                return value[BearerScheme.Length..].Trim();
            }

            return value.StartsWith(BasicScheme, StringComparison.OrdinalIgnoreCase) && BasicKey(value[BasicScheme.Length..].Trim()) is { } basic
                ? basic
                : value;
        }

        return null;

        // Several values or another scheme never match a digest; they are answered as a wrong key, not as no key.
        static string Single(StringValues values) => values.Count == 1 ? values[0] ?? string.Empty : string.Empty;
    }

    private static string? BasicKey(string credentials)
    {
        var bytes = new byte[credentials.Length];
        if (!Convert.TryFromBase64String(credentials, bytes, out var length))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(bytes, 0, length);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }

        var password = text[(colon + 1)..];
        return password.Length > 0 ? password : text[..colon];
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
