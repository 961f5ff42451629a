using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floodgate.Grains.Processors.OpenAi;
using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.OpenAiEmbeddings;

/// <summary>
/// Text → embedding vector against any OpenAI-compatible server, through <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/>
/// (Microsoft.Extensions.AI over the official <c>OpenAI</c> SDK). Batch options: <c>model</c>, <c>template</c>
/// (see <see cref="ItemTemplate"/>). Result: <c>{"embedding": [...], "dimensions": n, "model": "...", "usage": {...}}</c>.
/// </summary>
public sealed class OpenAiEmbeddingsProcessor(OpenAiClients clients, IOptionsMonitor<OpenAiEmbeddingsOptions> options, TimeProvider time)
    : IItemProcessor
{
    public const string ProcessorName = "openai-embeddings";

    private readonly ConcurrentDictionary<(Uri, string?, string), IEmbeddingGenerator<string, Embedding<float>>> _generators = new();

    public string Name => ProcessorName;

    public IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> batchOptions) =>
        OpenAiClients.ValidateCommonOptions(ProcessorName, OpenAiEmbeddingsOptions.SectionName, options.CurrentValue.BaseUrl, batchOptions);

    public string? ValidateItem(IReadOnlyDictionary<string, string> batchOptions, JsonElement item) =>
        Template(batchOptions).Check(item);

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var baseUrl = OpenAiClients.RequireBaseUrl(ProcessorName, o.BaseUrl);
        var model = context.Options.GetValueOrDefault("model") ?? o.Model;
        var generator = _generators.GetOrAdd(
            (baseUrl, o.ApiKey, model), key => clients.Get(key.Item1, key.Item2).GetEmbeddingClient(key.Item3).AsIEmbeddingGenerator());

        GeneratedEmbeddings<Embedding<float>> embeddings;
        try
        {
            using var _ = UpstreamCall.For(context);
            embeddings = await generator.GenerateAsync(
                [Template(context.Options).Render(item)], new EmbeddingGenerationOptions { Dimensions = o.Dimensions }, cancellationToken);
        }
        catch (Exception ex) when (OpenAiClients.Classify(ex, time) is { } upstream)
        {
            throw upstream;
        }

        if (embeddings.Count == 0)
        {
            throw new UpstreamException("Upstream answered 200 without an embedding in the body.", 200, isTransient: false);
        }

        var vector = embeddings[0].Vector.ToArray();
        var result = new JsonObject
        {
            ["embedding"] = new JsonArray(vector.Select(v => (JsonNode)v).ToArray()),
            ["dimensions"] = vector.Length,
            ["model"] = embeddings[0].ModelId ?? model,
        };
        if (embeddings.Usage is { } usage)
        {
            result["usage"] = new JsonObject { ["prompt_tokens"] = usage.InputTokenCount, ["total_tokens"] = usage.TotalTokenCount };
        }

        return JsonSerializer.SerializeToElement(result);
    }

    private ItemTemplate Template(IReadOnlyDictionary<string, string> batchOptions) =>
        ItemTemplate.Parse(batchOptions.GetValueOrDefault("template") ?? options.CurrentValue.InputTemplate);
}
