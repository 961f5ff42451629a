using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.OpenAiChat;

/// <summary>
/// Prompt → chat completion against any OpenAI-compatible server (<c>POST {BaseUrl}/v1/chat/completions</c>).
/// Batch options: <c>model</c>, <c>template</c> (with <c>{item}</c>), <c>system</c>. Result:
/// <c>{"content": "...", "model": "...", "usage": {...}}</c>.
/// </summary>
public sealed class OpenAiChatProcessor(
    IHttpClientFactory httpClientFactory,
    IOptionsMonitor<OpenAiChatOptions> options,
    TimeProvider time)
    : IItemProcessor
{
    public const string ProcessorName = "openai-chat";
    public const string HttpClientName = "floodgate-openai-chat";

    public string Name => ProcessorName;

    public IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> batchOptions)
    {
        var errors = new List<string>();
        if (options.CurrentValue.BaseUrl is null)
        {
            errors.Add($"The openai-chat processor has no upstream: set {OpenAiChatOptions.SectionName}:BaseUrl on the silo.");
        }

        if (batchOptions.TryGetValue("template", out var template) && !template.Contains("{item}", StringComparison.Ordinal))
        {
            errors.Add("Processor option template must contain {item}.");
        }

        if (batchOptions.TryGetValue("model", out var model) && string.IsNullOrWhiteSpace(model))
        {
            errors.Add("Processor option model must not be empty.");
        }

        return errors;
    }

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var baseUrl = o.BaseUrl ?? throw new UpstreamException("The openai-chat processor has no BaseUrl configured.", null, isTransient: false);
        var model = context.Options.GetValueOrDefault("model") ?? o.Model;
        var template = context.Options.GetValueOrDefault("template") ?? o.PromptTemplate;

        var messages = new JsonArray();
        if (context.Options.GetValueOrDefault("system") is { } system)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = template.Replace("{item}", ItemText(item), StringComparison.Ordinal) });
        var body = new JsonObject { ["model"] = model, ["messages"] = messages };
        if (o.MaxTokens is { } maxTokens)
        {
            body["max_tokens"] = maxTokens;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "v1/chat/completions"))
        {
            Content = JsonContent.Create(body),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", context.IdempotencyKey);
        if (!string.IsNullOrEmpty(o.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.ApiKey);
        }

        using var response = await SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw UpstreamException.FromStatus(response.StatusCode, RetryAfter(response, time));
        }

        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return ToResult(document.RootElement);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            // The exception text names the host at most; it never carries headers.
            throw new UpstreamException($"Upstream unreachable: {ex.HttpRequestError}.", null, isTransient: true);
        }
    }

    private static JsonElement ToResult(JsonElement completion)
    {
        try
        {
            var content = completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
            var result = new JsonObject
            {
                ["content"] = content,
                ["model"] = completion.TryGetProperty("model", out var m) ? m.GetString() : null,
            };
            if (completion.TryGetProperty("usage", out var usage))
            {
                result["usage"] = JsonNode.Parse(usage.GetRawText());
            }

            return JsonSerializer.SerializeToElement(result);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new UpstreamException("Upstream answered 200 without a chat completion in the body.", 200, isTransient: false);
        }
    }

    private static string ItemText(JsonElement item) => item.ValueKind switch
    {
        JsonValueKind.String => item.GetString()!,
        JsonValueKind.Object when item.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String => p.GetString()!,
        _ => item.GetRawText(),
    };

    private static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero,
            _ => null,
        };
}
