using Microsoft.Extensions.Options;

namespace Floodgate.Silo.Api;

/// <summary>
/// API keys of the silo's HTTP API (section <c>Floodgate:Api</c>). Client keys open the batch, lease and status
/// endpoints; admin keys open those and the admin endpoints (changing a limiter's limits).
/// </summary>
public sealed class ApiOptions
{
    public const string SectionName = "Floodgate:Api";

    /// <summary>Keys for client endpoints. Empty: client endpoints need no key (local development).</summary>
    public List<string> ClientKeys { get; set; } = [];

    /// <summary>Keys for admin endpoints (they also open client endpoints). Empty: admin endpoints are refused.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>
    /// Whether <c>/metrics</c> needs a client key like the API (sent as a bearer token or basic-auth password by the
    /// scraper). Default false: Prometheus scrapes without one; the metrics hold no secret.
    /// </summary>
    public bool MetricsRequireKey { get; set; }
}

/// <summary>Defaults and wire constants of the HTTP API, in one place.</summary>
internal static class ApiDefaults
{
    /// <summary>Shortest accepted API key; shorter keys are guessable.</summary>
    public const int MinKeyLength = 16;

    /// <summary>Longest accepted API key (keeps header parsing bounded).</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Header carrying the key; <c>Authorization: Bearer &lt;key&gt;</c> works too.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Lease holder when a lease request names none (never derived from the caller's key).</summary>
    public const string LeaseHolder = "http-client";

    /// <summary>Content type of the ordered results stream.</summary>
    public const string NdjsonContentType = "application/x-ndjson; charset=utf-8";

    /// <summary>Buffered NDJSON bytes that force a flush even while more outcomes are ready.</summary>
    public const int ResultFlushThresholdBytes = 64 * 1024;
}

/// <summary>Checks API keys at start. Messages name the setting and the position of a key, never the key itself.</summary>
internal sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var errors = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        Check(nameof(ApiOptions.ClientKeys), options.ClientKeys, seen, errors);
        Check(nameof(ApiOptions.AdminKeys), options.AdminKeys, seen, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(string list, List<string>? keys, Dictionary<string, string> seen, List<string> errors)
    {
        if (keys is null)
        {
            return;
        }

        for (var i = 0; i < keys.Count; i++)
        {
            var setting = $"{ApiOptions.SectionName}:{list}:{i}";
            var key = keys[i];
            if (string.IsNullOrEmpty(key) || key.Length < ApiDefaults.MinKeyLength)
            {
                errors.Add($"{setting} must be at least {ApiDefaults.MinKeyLength} characters long.");
                continue;
            }

            if (key.Length > ApiDefaults.MaxKeyLength)
            {
                errors.Add($"{setting} must be at most {ApiDefaults.MaxKeyLength} characters long.");
                continue;
            }

            // Keys travel in HTTP headers: printable ASCII without spaces, so what is configured is what arrives.
            if (key.Any(c => c is <= ' ' or > '~'))
            {
                errors.Add($"{setting} may contain only printable ASCII characters without spaces.");
                continue;
            }

            if (seen.TryGetValue(key, out var first))
            {
                errors.Add($"{setting} duplicates {first}; each key must appear once, in one list.");
                continue;
            }

            seen[key] = setting;
        }
    }
}
