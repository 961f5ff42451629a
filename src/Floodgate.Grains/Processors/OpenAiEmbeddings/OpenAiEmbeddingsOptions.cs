using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.OpenAiEmbeddings;

/// <summary>
/// The upstream of the <c>openai-embeddings</c> processor (section <c>Floodgate:Processors:OpenAiEmbeddings</c>). The API
/// key lives here — in silo configuration or the environment — and never in a batch, grain state, log, status or error.
/// </summary>
public sealed class OpenAiEmbeddingsOptions
{
    public const string SectionName = "Floodgate:Processors:OpenAiEmbeddings";

    /// <summary>Base URL of an OpenAI-compatible server, e.g. <c>https://api.openai.com/</c> or the simulator's.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>Bearer token sent upstream. Optional (a local server may need none).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Model used when a batch does not name one (processor option <c>model</c>). <value>text-embedding-3-small</value></summary>
    public string Model { get; set; } = "text-embedding-3-small";

    /// <summary>Text embedded for an item when a batch gives no <c>template</c> option (see <see cref="ItemTemplate"/>).</summary>
    public string InputTemplate { get; set; } = "{item}";

    /// <summary>Optional number of dimensions to ask for (models that support shortening).</summary>
    public int? Dimensions { get; set; }
}

internal sealed class OpenAiEmbeddingsOptionsValidator : IValidateOptions<OpenAiEmbeddingsOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenAiEmbeddingsOptions o)
    {
        var errors = new List<string>();
        if (o.BaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{OpenAiEmbeddingsOptions.SectionName}:BaseUrl must be an absolute http(s) URL.");
        }

        if (string.IsNullOrWhiteSpace(o.Model))
        {
            errors.Add($"{OpenAiEmbeddingsOptions.SectionName}:Model must not be empty.");
        }

        if (string.IsNullOrEmpty(o.InputTemplate) || !ItemTemplate.Parse(o.InputTemplate).HasPlaceholders)
        {
            errors.Add($"{OpenAiEmbeddingsOptions.SectionName}:InputTemplate must contain {{item}} or a {{field}} of the items.");
        }

        if (o.Dimensions is <= 0)
        {
            errors.Add($"{OpenAiEmbeddingsOptions.SectionName}:Dimensions must be positive when set.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
