using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.Http;

/// <summary>
/// The upstreams of the generic <c>http</c> processor (section <c>Floodgate:Processors:Http</c>): named endpoints, each
/// with its URL, method and headers. URLs and headers (which carry credentials) live only here; a batch picks an
/// endpoint by name and may shape the body and the result.
/// </summary>
public sealed class HttpProcessorOptions
{
    public const string SectionName = "Floodgate:Processors:Http";

    /// <summary>Endpoints by name (batch option <c>endpoint</c>; a single endpoint needs no name).</summary>
    public Dictionary<string, HttpEndpointOptions> Endpoints { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One endpoint of the <c>http</c> processor.</summary>
public sealed class HttpEndpointOptions
{
    /// <summary>Absolute http(s) URL called for each item.</summary>
    public Uri? Url { get; set; }

    /// <summary>HTTP method. <value>POST</value></summary>
    public string Method { get; set; } = "POST";

    /// <summary>Headers sent with every call (e.g. <c>Authorization</c>); never logged or reported.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// JSON body with <see cref="ItemTemplate"/> placeholders in its strings, used when a batch gives no <c>body</c>
    /// option; none sends the item itself. Ignored for GET.
    /// </summary>
    public string? BodyTemplate { get; set; }

    /// <summary>Dotted path of the response field returned as the result (batch option <c>select</c>); none returns the whole response.</summary>
    public string? ResultField { get; set; }
}

internal sealed class HttpProcessorOptionsValidator : IValidateOptions<HttpProcessorOptions>
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public ValidateOptionsResult Validate(string? name, HttpProcessorOptions o)
    {
        var errors = new List<string>();
        foreach (var (endpointName, endpoint) in o.Endpoints)
        {
            var prefix = $"{HttpProcessorOptions.SectionName}:Endpoints:{endpointName}";
            if (endpoint.Url is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{prefix}:Url must be an absolute http(s) URL.");
            }

            if (!Methods.Contains(endpoint.Method.ToUpperInvariant()))
            {
                errors.Add($"{prefix}:Method must be one of {string.Join(", ", Methods)}.");
            }

            if (endpoint.BodyTemplate is { } body && JsonBodyTemplate.TryParse(body, out _) is null)
            {
                errors.Add($"{prefix}:BodyTemplate must be JSON.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
