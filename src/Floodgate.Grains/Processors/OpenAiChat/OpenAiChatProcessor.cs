using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floodgate.Grains.Processors.OpenAi;
using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.OpenAiChat;

/// <summary>
/// Prompt → chat completion against any OpenAI-compatible server, through <see cref="IChatClient"/> (Microsoft.Extensions.AI
/// over the official <c>OpenAI</c> SDK). Batch options: <c>model</c>, <c>template</c> (placeholders <c>{item}</c> and
/// <c>{field}</c> of object items, see <see cref="ItemTemplate"/>), <c>system</c>. Result:
/// <c>{"content": "...", "model": "...", "usage": {"prompt_tokens": …, "completion_tokens": …, "total_tokens": …}}</c>.
/// </summary>
public sealed class OpenAiChatProcessor(OpenAiClients clients, IOptionsMonitor<OpenAiChatOptions> options, TimeProvider time)
    : IItemProcessor
{
    public const string ProcessorName = "openai-chat";

    private readonly ConcurrentDictionary<(Uri, string?, string), IChatClient> _chatClients = new();

    public string Name => ProcessorName;

    public IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> batchOptions) =>
        OpenAiClients.ValidateCommonOptions(ProcessorName, OpenAiChatOptions.SectionName, options.CurrentValue.BaseUrl, batchOptions);

    public string? ValidateItem(IReadOnlyDictionary<string, string> batchOptions, JsonElement item) =>
        Template(batchOptions).Check(item);

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var baseUrl = OpenAiClients.RequireBaseUrl(ProcessorName, o.BaseUrl);
        var model = context.Options.GetValueOrDefault("model") ?? o.Model;
        var chat = _chatClients.GetOrAdd((baseUrl, o.ApiKey, model), key => clients.Get(key.Item1, key.Item2).GetChatClient(key.Item3).AsIChatClient());

        List<ChatMessage> messages = [];
        if (context.Options.GetValueOrDefault("system") is { } system)
        {
            messages.Add(new ChatMessage(ChatRole.System, system));
        }

        messages.Add(new ChatMessage(ChatRole.User, Template(context.Options).Render(item)));
        var chatOptions = new ChatOptions { MaxOutputTokens = o.MaxTokens };

        ChatResponse response;
        try
        {
            using var _ = UpstreamCall.For(context);
            response = await chat.GetResponseAsync(messages, chatOptions, cancellationToken);
        }
        catch (Exception ex) when (OpenAiClients.Classify(ex, time) is { } upstream)
        {
            throw upstream;
        }

        return ToResult(response);
    }

    private ItemTemplate Template(IReadOnlyDictionary<string, string> batchOptions) =>
        ItemTemplate.Parse(batchOptions.GetValueOrDefault("template") ?? options.CurrentValue.PromptTemplate);

    private static JsonElement ToResult(ChatResponse response)
    {
        if (response.Messages.Count == 0)
        {
            throw new UpstreamException("Upstream answered 200 without a chat completion in the body.", 200, isTransient: false);
        }

        var result = new JsonObject { ["content"] = response.Text, ["model"] = response.ModelId };
        if (response.Usage is { } usage)
        {
            result["usage"] = new JsonObject
            {
                ["prompt_tokens"] = usage.InputTokenCount,
                ["completion_tokens"] = usage.OutputTokenCount,
                ["total_tokens"] = usage.TotalTokenCount,
            };
        }

        return JsonSerializer.SerializeToElement(result);
    }
}
