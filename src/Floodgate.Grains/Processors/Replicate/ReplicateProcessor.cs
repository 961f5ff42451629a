using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Floodgate.Grains.Processors.Templates;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.Processors.Replicate;

/// <summary>
/// One Replicate prediction per item, as seed 000 runs them: create it (<c>POST /v1/models/{owner}/{name}/predictions</c>,
/// or <c>POST /v1/predictions</c> with a <c>version</c>), poll <c>GET /v1/predictions/{id}</c> until it succeeds, fails or
/// is cancelled, and return <c>{"id": …, "status": "succeeded", "output": …}</c>. The item holds its permit while the
/// prediction runs: a running prediction is what the account's concurrency limit counts. A failed status poll is waited
/// out, not retried by creating a second prediction; a cancelled item cancels its prediction.
/// Batch options: <c>model</c> or <c>version</c>, <c>input</c> (JSON template, see <see cref="JsonBodyTemplate"/>).
/// </summary>
public sealed partial class ReplicateProcessor(IHttpClientFactory httpClientFactory, IOptionsMonitor<ReplicateOptions> options, TimeProvider time)
    : IItemProcessor
{
    public const string ProcessorName = "replicate";
    public const string HttpClientName = "floodgate-replicate";

    /// <summary>Failed polls in a row after which the prediction is given up (transient: the item is retried).</summary>
    public const int MaxFailedPolls = 5;

    public string Name => ProcessorName;

    internal static bool IsModelName(string text) => ModelName().IsMatch(text);

    public IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> batchOptions)
    {
        var errors = new List<string>();
        var model = batchOptions.GetValueOrDefault("model");
        var version = batchOptions.GetValueOrDefault("version");
        if (model is not null && version is not null)
        {
            errors.Add("Processor options model and version exclude each other.");
        }
        else if (model is not null && !IsModelName(model))
        {
            errors.Add($"Processor option model must look like owner/name (got '{model}').");
        }
        else if (version is not null && !VersionId().IsMatch(version))
        {
            errors.Add("Processor option version must be a version id (letters and digits).");
        }
        else if (model is null && version is null && options.CurrentValue.Model is null)
        {
            errors.Add($"The replicate processor needs a model: processor option model or version, or {ReplicateOptions.SectionName}:Model on the silo.");
        }

        if (batchOptions.TryGetValue("input", out var input) && JsonBodyTemplate.TryParse(input, out var error) is not { } template)
        {
            errors.Add($"Processor option input is not usable: {error}.");
        }

        return errors;
    }

    public string? ValidateItem(IReadOnlyDictionary<string, string> batchOptions, JsonElement item) =>
        JsonBodyTemplate.TryParse(InputTemplate(batchOptions), out _)?.Check(item);

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var http = httpClientFactory.CreateClient(HttpClientName);
        var input = JsonBodyTemplate.TryParse(InputTemplate(context.Options), out _)!.Render(item);
        var prediction = await CreateAsync(http, o, context, input, cancellationToken);
        var id = prediction.GetProperty("id").GetString()!;
        try
        {
            var failedPolls = 0;
            while (!IsFinal(Status(prediction)))
            {
                await Task.Delay(o.PollInterval, time, cancellationToken);
                using var poll = Request(HttpMethod.Get, new Uri(o.BaseUrl, $"v1/predictions/{Uri.EscapeDataString(id)}"), o);
                try
                {
                    using var response = await UpstreamHttp.SendAsync(http, poll, cancellationToken);
                    UpstreamHttp.ThrowIfFailed(response, time, "polling a prediction");
                    prediction = await UpstreamHttp.ReadJsonAsync(response, cancellationToken);
                    failedPolls = 0;
                }
                catch (UpstreamException ex) when (ex.IsTransient && ++failedPolls < MaxFailedPolls)
                {
                    // The prediction runs on regardless; creating another would pay twice.
                    if (ex.RetryAfter is { } wait)
                    {
                        await Task.Delay(wait, time, cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            await CancelQuietlyAsync(http, o, id);
            throw;
        }

        return Status(prediction) switch
        {
            "succeeded" => JsonSerializer.SerializeToElement(new JsonObject
            {
                ["id"] = id,
                ["status"] = "succeeded",
                ["output"] = prediction.TryGetProperty("output", out var output) ? JsonNode.Parse(output.GetRawText()) : null,
            }),
            "canceled" => throw new UpstreamException($"Prediction {id} was cancelled upstream.", 200, isTransient: false),
            _ => throw new UpstreamException($"Prediction {id} failed upstream.", 200, isTransient: false),
        };
    }

    private async Task<JsonElement> CreateAsync(HttpClient http, ReplicateOptions o, ItemContext context, JsonNode? input, CancellationToken cancellationToken)
    {
        var model = context.Options.GetValueOrDefault("model") ?? o.Model;
        var body = new JsonObject { ["input"] = input };
        Uri url;
        if (context.Options.GetValueOrDefault("version") is { } version)
        {
            body["version"] = version;
            url = new Uri(o.BaseUrl, "v1/predictions");
        }
        else
        {
            url = new Uri(o.BaseUrl, $"v1/models/{model}/predictions");
        }

        using var request = Request(HttpMethod.Post, url, o);
        request.Content = JsonContent.Create(body);
        request.Headers.TryAddWithoutValidation(UpstreamCall.IdempotencyKeyHeader, context.IdempotencyKey);
        using var response = await UpstreamHttp.SendAsync(http, request, cancellationToken);
        UpstreamHttp.ThrowIfFailed(response, time);
        var prediction = await UpstreamHttp.ReadJsonAsync(response, cancellationToken);
        return prediction.ValueKind == JsonValueKind.Object && prediction.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? prediction
            : throw new UpstreamException("Upstream answered without a prediction id.", (int)response.StatusCode, isTransient: false);
    }

    private async Task CancelQuietlyAsync(HttpClient http, ReplicateOptions o, string id)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            using var request = Request(HttpMethod.Post, new Uri(o.BaseUrl, $"v1/predictions/{Uri.EscapeDataString(id)}/cancel"), o);
            using var _ = await http.SendAsync(request, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // Best effort: an uncancelled prediction finishes on its own.
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri url, ReplicateOptions o)
    {
        var request = new HttpRequestMessage(method, url);
        if (!string.IsNullOrEmpty(o.ApiToken))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.ApiToken);
        }

        return request;
    }

    private string InputTemplate(IReadOnlyDictionary<string, string> batchOptions) =>
        batchOptions.GetValueOrDefault("input") ?? options.CurrentValue.InputTemplate;

    private static string Status(JsonElement prediction) =>
        prediction.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "starting";

    private static bool IsFinal(string status) => status is "succeeded" or "failed" or "canceled";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex ModelName();

    [GeneratedRegex("^[A-Za-z0-9]{1,128}$")]
    private static partial Regex VersionId();
}
