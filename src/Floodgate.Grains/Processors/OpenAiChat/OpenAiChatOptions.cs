using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.OpenAiChat;

/// <summary>
/// The upstream of the <c>openai-chat</c> processor (section <c>Floodgate:Processors:OpenAiChat</c>). The API key lives
/// here — in silo configuration or the environment — and never in a batch, grain state, log, status or error.
/// </summary>
public sealed class OpenAiChatOptions
{
    public const string SectionName = "Floodgate:Processors:OpenAiChat";

    /// <summary>Base URL of an OpenAI-compatible server, e.g. <c>https://api.openai.com/</c> or the simulator's.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>Bearer token sent upstream. Optional (a local server may need none).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Model used when a batch does not name one (processor option <c>model</c>).</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>
    /// Prompt built from an item when a batch does not give a <c>template</c> option; <c>{item}</c> is replaced by the
    /// item text (a string item, an object's <c>prompt</c> field, or the item's JSON), <c>{field}</c> by that field of an
    /// object item.
    /// </summary>
    public string PromptTemplate { get; set; } = "{item}";

    /// <summary>Optional <c>max_tokens</c> for each completion.</summary>
    public int? MaxTokens { get; set; }
}

internal sealed class OpenAiChatOptionsValidator : IValidateOptions<OpenAiChatOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenAiChatOptions o)
    {
        var errors = new List<string>();
        if (o.BaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{OpenAiChatOptions.SectionName}:BaseUrl must be an absolute http(s) URL.");
        }

        if (string.IsNullOrWhiteSpace(o.Model))
        {
            errors.Add($"{OpenAiChatOptions.SectionName}:Model must not be empty.");
        }

        if (string.IsNullOrEmpty(o.PromptTemplate) || !Templates.ItemTemplate.Parse(o.PromptTemplate).HasPlaceholders)
        {
            errors.Add($"{OpenAiChatOptions.SectionName}:PromptTemplate must contain {{item}} or a {{field}} of the items.");
        }

        if (o.MaxTokens is <= 0)
        {
            errors.Add($"{OpenAiChatOptions.SectionName}:MaxTokens must be positive when set.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
