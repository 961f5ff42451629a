using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.Replicate;

/// <summary>
/// The upstream of the <c>replicate</c> processor (section <c>Floodgate:Processors:Replicate</c>). The token lives here —
/// in silo configuration or the environment (seed 000's <c>REPLICATE_API_TOKEN</c>) — never in a batch, log or error.
/// </summary>
public sealed class ReplicateOptions
{
    public const string SectionName = "Floodgate:Processors:Replicate";

    /// <summary>Base URL of the predictions API. <value>https://api.replicate.com/</value></summary>
    public Uri BaseUrl { get; set; } = new("https://api.replicate.com/");

    /// <summary>API token sent as a bearer token.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Model (<c>owner/name</c>) used when a batch names neither <c>model</c> nor <c>version</c>.</summary>
    public string? Model { get; set; }

    /// <summary>
    /// The prediction's <c>input</c> when a batch gives no <c>input</c> option: a JSON template (see
    /// <see cref="JsonBodyTemplate"/>). <value>{"prompt":"{item}"}</value>
    /// </summary>
    public string InputTemplate { get; set; } = """{"prompt":"{item}"}""";

    /// <summary>Wait between status polls of a running prediction. <value>1 s</value></summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

internal sealed class ReplicateOptionsValidator : IValidateOptions<ReplicateOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicateOptions o)
    {
        var errors = new List<string>();
        if (o.BaseUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{ReplicateOptions.SectionName}:BaseUrl must be an absolute http(s) URL.");
        }

        if (o.Model is { } model && !ReplicateProcessor.IsModelName(model))
        {
            errors.Add($"{ReplicateOptions.SectionName}:Model must look like owner/name.");
        }

        if (JsonBodyTemplate.TryParse(o.InputTemplate, out _) is null)
        {
            errors.Add($"{ReplicateOptions.SectionName}:InputTemplate must be JSON.");
        }

        if (o.PollInterval <= TimeSpan.Zero || o.PollInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{ReplicateOptions.SectionName}:PollInterval must be positive and at most one minute.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
