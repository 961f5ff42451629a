using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Floodgate.Grains.Processors.Templates;
using OpenAI;

namespace Floodgate.Grains.Processors.OpenAi;

/// <summary>
/// The official <c>OpenAI</c> clients the OpenAI processors call through (one per base URL and key), sending over the
/// silo's <see cref="IHttpClientFactory"/> client, with the SDK's own retries off — Polly in the item pipeline retries,
/// under the global limiter — and each call's <c>Idempotency-Key</c> header set from <see cref="UpstreamCall"/>.
/// </summary>
public sealed class OpenAiClients(IHttpClientFactory httpClientFactory)
{
    /// <summary>The named <see cref="HttpClient"/> the OpenAI processors send through.</summary>
    public const string HttpClientName = "floodgate-openai";

    private readonly ConcurrentDictionary<(Uri BaseUrl, string? ApiKey), OpenAIClient> _clients = new();

    /// <summary>The client for an OpenAI-compatible server at <paramref name="baseUrl"/> (its <c>/v1</c> API).</summary>
    public OpenAIClient Get(Uri baseUrl, string? apiKey) =>
        _clients.GetOrAdd((baseUrl, string.IsNullOrEmpty(apiKey) ? null : apiKey), key => Create(key.BaseUrl, key.ApiKey));

    private OpenAIClient Create(Uri baseUrl, string? apiKey)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(baseUrl, "v1"),
            Transport = new HttpClientPipelineTransport(httpClientFactory.CreateClient(HttpClientName)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),

            // The item pipeline's attempt timeout cancels a call; the SDK's own 100 s default must not cut in first.
            NetworkTimeout = TimeSpan.FromHours(1),
        };
        options.AddPolicy(new UpstreamHeadersPolicy(sendAuthorization: apiKey is not null), PipelinePosition.BeforeTransport);

        // The SDK insists on a credential; a keyless local server gets none (the policy drops the header).
        return new OpenAIClient(new ApiKeyCredential(apiKey ?? "no-key"), options);
    }

    /// <summary>
    /// Turns what the SDK throws for a failed call into an <see cref="UpstreamException"/> classified for Polly: 408, 429
    /// and 5xx transient, with the upstream's <c>Retry-After</c>; never the SDK's message, which quotes the upstream body.
    /// </summary>
    public static UpstreamException? Classify(Exception ex, TimeProvider time) => ex switch
    {
        ClientResultException { Status: 0 } => new UpstreamException("Upstream unreachable.", null, isTransient: true),
        ClientResultException c => UpstreamException.FromStatus((HttpStatusCode)c.Status, RetryAfter(c.GetRawResponse(), time)),
        HttpRequestException h => new UpstreamException($"Upstream unreachable: {h.HttpRequestError}.", null, isTransient: true),
        _ => null,
    };

    private static TimeSpan? RetryAfter(PipelineResponse? response, TimeProvider time)
    {
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value) || string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero
            : null;
    }

    /// <summary>Sets the call's idempotency key; drops the placeholder credential of a keyless upstream.</summary>
    private sealed class UpstreamHeadersPolicy(bool sendAuthorization) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Apply(PipelineMessage message)
        {
            if (UpstreamCall.IdempotencyKey is { } key)
            {
                message.Request.Headers.Set(UpstreamCall.IdempotencyKeyHeader, key);
            }

            if (!sendAuthorization)
            {
                message.Request.Headers.Remove("Authorization");
            }
        }
    }

    /// <summary>
    /// The batch options both OpenAI processors share: an upstream configured in <paramref name="section"/>, a template
    /// with a placeholder, a non-empty model. Returns every problem; empty when valid.
    /// </summary>
    public static List<string> ValidateCommonOptions(string processor, string section, Uri? baseUrl, IReadOnlyDictionary<string, string> batchOptions)
    {
        var errors = new List<string>();
        if (baseUrl is null)
        {
            errors.Add($"The {processor} processor has no upstream: set {section}:BaseUrl on the silo.");
        }

        if (batchOptions.TryGetValue("template", out var template) && !ItemTemplate.Parse(template).HasPlaceholders)
        {
            errors.Add("Processor option template must contain {item} or a {field} of the items.");
        }

        if (batchOptions.TryGetValue("model", out var model) && string.IsNullOrWhiteSpace(model))
        {
            errors.Add("Processor option model must not be empty.");
        }

        return errors;
    }

    /// <summary>The configured upstream of <paramref name="processor"/>; a permanent failure when there is none.</summary>
    public static Uri RequireBaseUrl(string processor, Uri? baseUrl) =>
        baseUrl ?? throw new UpstreamException($"The {processor} processor has no BaseUrl configured.", null, isTransient: false);
}
