using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Options;

namespace Floodgate.Gateway;

/// <summary>
/// Checks the gateway's settings at start. Every message names the setting (and a key's position), never a key.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private const string Section = GatewayOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        if (options.MaxQueueTime <= TimeSpan.Zero || options.MaxQueueTime > TimeSpan.FromHours(1))
        {
            errors.Add($"{Section}:MaxQueueTime must be positive and at most one hour (got {options.MaxQueueTime}).");
        }

        if (options.DefaultMaxTokens is < 0 or > 1_000_000)
        {
            errors.Add($"{Section}:DefaultMaxTokens must be between 0 and 1000000 (got {options.DefaultMaxTokens}).");
        }

        foreach (var (upstream, settings) in options.Upstreams)
        {
            CheckUpstream(upstream, settings, errors);
        }

        if (options.DefaultUpstream is { } defaultUpstream && !options.Upstreams.ContainsKey(defaultUpstream))
        {
            errors.Add($"{Section}:DefaultUpstream '{Shorten(defaultUpstream)}' names no upstream under {Section}:Upstreams.");
        }

        CheckKeys(options.Keys, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Upstream names go into routes and limiter names: letters, digits, <c>-</c>, <c>_</c>, <c>.</c>.</summary>
    internal static bool IsUpstreamName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static void CheckUpstream(string upstream, GatewayUpstreamOptions? settings, List<string> errors)
    {
        var at = $"{Section}:Upstreams:{upstream}";
        if (!IsUpstreamName(upstream))
        {
            errors.Add($"{Section}:Upstreams: the name '{Shorten(upstream)}' may contain only letters, digits, - _ . (at most 64).");
        }

        if (settings is null)
        {
            errors.Add($"{at}:BaseUrl is required.");
            return;
        }

        if (!Uri.TryCreate(settings.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query))
        {
            errors.Add($"{at}:BaseUrl must be an absolute http or https URL without a query (the server's root, e.g. https://api.openai.com/).");
        }

        if (settings.ApiKey is { } key && (key.Length == 0 || key.Any(c => c is <= ' ' or > '~')))
        {
            errors.Add($"{at}:ApiKey may contain only printable ASCII characters without spaces.");
        }

        if (settings.Limiter is not null && Names.CheckUnreserved("Limiter name", settings.Limiter) is { } limiterProblem)
        {
            errors.Add($"{at}:Limiter: {limiterProblem}");
        }

        if (settings.MaxConcurrency is { } max && max is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
        {
            errors.Add($"{at}:MaxConcurrency must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {max}).");
        }

        if (settings.RequestsPerMinute is { } rpm && rpm is <= 0 or > LimiterLimitsValidator.MaxRequestsPerMinute)
        {
            errors.Add($"{at}:RequestsPerMinute must be between 1 and {LimiterLimitsValidator.MaxRequestsPerMinute} (got {rpm}).");
        }

        if (settings.TokensPerMinute is { } tpm && tpm is <= 0 or > LimiterLimitsValidator.MaxTokensPerMinute)
        {
            errors.Add($"{at}:TokensPerMinute must be between 1 and {LimiterLimitsValidator.MaxTokensPerMinute} (got {tpm}).");
        }

        foreach (var (model, limiter) in settings.ModelLimiters)
        {
            if (Names.CheckUnreserved("Limiter name", limiter) is { } problem)
            {
                errors.Add($"{at}:ModelLimiters:{model}: {problem}");
            }
        }
    }

    private static void CheckKeys(List<GatewayKeyOptions> keys, List<string> errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var caps = new Dictionary<string, (int? Max, int? Rpm, int Index)>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            var at = $"{Section}:Keys:{i}";
            var entry = keys[i];
            if (entry?.Key is not { } key || key.Length < GatewayConstants.MinKeyLength || key.Length > GatewayConstants.MaxKeyLength)
            {
                errors.Add($"{at}:Key must be {GatewayConstants.MinKeyLength} to {GatewayConstants.MaxKeyLength} characters long.");
            }
            else if (key.Any(c => c is <= ' ' or > '~'))
            {
                errors.Add($"{at}:Key may contain only printable ASCII characters without spaces.");
            }
            else if (seen.TryGetValue(key, out var first))
            {
                errors.Add($"{at}:Key duplicates {Section}:Keys:{first}:Key; each key must appear once.");
            }
            else
            {
                seen[key] = i;
            }

            if (entry is null)
            {
                continue;
            }

            if (Names.Check("Tenant", entry.Tenant) is { } tenantProblem)
            {
                errors.Add($"{at}:Tenant: {tenantProblem}");
                continue;
            }

            if (entry.MaxConcurrency is { } max && max is <= 0 or > FloodgateDefaults.MaxConcurrencyLimit)
            {
                errors.Add($"{at}:MaxConcurrency must be between 1 and {FloodgateDefaults.MaxConcurrencyLimit} (got {max}).");
            }

            if (entry.RequestsPerMinute is { } rpm && rpm is <= 0 or > LimiterLimitsValidator.MaxRequestsPerMinute)
            {
                errors.Add($"{at}:RequestsPerMinute must be between 1 and {LimiterLimitsValidator.MaxRequestsPerMinute} (got {rpm}).");
            }

            // A tenant's caps are one limiter: keys of one tenant (a rotation) must agree on them.
            if (caps.TryGetValue(entry.Tenant!, out var other) && (other.Max != entry.MaxConcurrency || other.Rpm != entry.RequestsPerMinute))
            {
                errors.Add($"{at}: tenant '{entry.Tenant}' has other caps in {Section}:Keys:{other.Index}; keys of one tenant must set the same MaxConcurrency and RequestsPerMinute.");
            }
            else
            {
                caps.TryAdd(entry.Tenant!, (entry.MaxConcurrency, entry.RequestsPerMinute, i));
            }
        }
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
