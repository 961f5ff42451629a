using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.Http;

/// <summary>
/// Calls a configured HTTP endpoint for each item (its URL may hold <c>{field}</c> placeholders, filled escaped). Batch options: <c>endpoint</c> (a name under
/// <c>Floodgate:Processors:Http:Endpoints</c>; optional when only one is configured), <c>body</c> (a JSON body template,
/// see <see cref="JsonBodyTemplate"/>; default the endpoint's, else the item itself) and <c>select</c> (dotted path of
/// the response field to return; default the endpoint's, else the whole JSON response). 408, 429 and 5xx are transient
/// (with <c>Retry-After</c>); other failures permanent.
/// </summary>
public sealed class HttpProcessor(IHttpClientFactory httpClientFactory, IOptionsMonitor<HttpProcessorOptions> options, TimeProvider time)
    : IItemProcessor
{
    public const string ProcessorName = "http";
    public const string HttpClientName = "floodgate-http";

    public string Name => ProcessorName;

    public IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> batchOptions)
    {
        var errors = new List<string>();
        if (FindEndpoint(batchOptions, out var problem) is not { } endpoint)
        {
            return [problem!];
        }

        if (Body(batchOptions, endpoint) is { } body && JsonBodyTemplate.TryParse(body, out var error) is null)
        {
            errors.Add($"Processor option body is not usable: {error}.");
        }

        if (batchOptions.TryGetValue("select", out var select) && string.IsNullOrWhiteSpace(select))
        {
            errors.Add("Processor option select must not be empty.");
        }

        return errors;
    }

    public string? ValidateItem(IReadOnlyDictionary<string, string> batchOptions, JsonElement item)
    {
        if (FindEndpoint(batchOptions, out _) is not { } endpoint)
        {
            return null;
        }

        return ItemTemplate.Parse(endpoint.Url!.OriginalString).Check(item)
            ?? (Body(batchOptions, endpoint) is { } body ? JsonBodyTemplate.TryParse(body, out _)?.Check(item) : null);
    }

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var endpoint = FindEndpoint(context.Options, out var problem)
            ?? throw new UpstreamException(problem!, null, isTransient: false);
        var method = HttpMethod.Parse(endpoint.Method.ToUpperInvariant());
        // Placeholders in the configured URL (/words/{word}) take the item's fields, escaped.
        var url = new Uri(ItemTemplate.Parse(endpoint.Url!.OriginalString).Render(item, Uri.EscapeDataString));
        using var request = new HttpRequestMessage(method, url);
        if (method != HttpMethod.Get)
        {
            JsonNode? body = Body(context.Options, endpoint) is { } template
                ? JsonBodyTemplate.TryParse(template, out _)!.Render(item)
                : JsonNode.Parse(item.GetRawText());
            request.Content = JsonContent.Create(body);
        }

        foreach (var (name, value) in endpoint.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.TryAddWithoutValidation(UpstreamCall.IdempotencyKeyHeader, context.IdempotencyKey);
        using var response = await UpstreamHttp.SendAsync(httpClientFactory.CreateClient(HttpClientName), request, cancellationToken);
        UpstreamHttp.ThrowIfFailed(response, time);

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement result;
        try
        {
            using var document = JsonDocument.Parse(text);
            result = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // A plain-text answer is the result as a JSON string; it cannot be selected from.
            result = JsonSerializer.SerializeToElement(text);
        }

        var select = context.Options.GetValueOrDefault("select") ?? endpoint.ResultField;
        if (select is null)
        {
            return result;
        }

        return UpstreamHttp.TrySelect(result, select, out var selected)
            ? selected.Clone()
            : throw new UpstreamException($"The upstream response has no field '{select}'.", (int)response.StatusCode, isTransient: false);
    }

    private static string? Body(IReadOnlyDictionary<string, string> batchOptions, HttpEndpointOptions endpoint) =>
        batchOptions.GetValueOrDefault("body") ?? endpoint.BodyTemplate;

    private HttpEndpointOptions? FindEndpoint(IReadOnlyDictionary<string, string> batchOptions, out string? problem)
    {
        var endpoints = options.CurrentValue.Endpoints;
        problem = null;
        if (batchOptions.TryGetValue("endpoint", out var name))
        {
            if (endpoints.TryGetValue(name, out var named))
            {
                return named;
            }

            problem = $"The http processor has no endpoint '{name}'. Configured: {string.Join(", ", endpoints.Keys.Order(StringComparer.Ordinal))}.";
            return null;
        }

        if (endpoints.Count == 1)
        {
            return endpoints.Values.Single();
        }

        problem = endpoints.Count == 0
            ? $"The http processor has no endpoint: configure {HttpProcessorOptions.SectionName}:Endpoints:{{name}}:Url on the silo."
            : $"Processor option endpoint is required: one of {string.Join(", ", endpoints.Keys.Order(StringComparer.Ordinal))}.";
        return null;
    }
}
