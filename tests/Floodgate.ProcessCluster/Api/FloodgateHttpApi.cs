using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Floodgate.ProcessCluster.Processes;

namespace Floodgate.ProcessCluster.Api;

/// <summary>
/// The silo HTTP API as a test sees it (one silo's base URL): limiter status and limits, leases, batches and their
/// NDJSON results. Every call is bounded by <see cref="CallTimeout"/>; an error answer throws <see cref="ApiCallException"/>.
/// </summary>
public sealed class FloodgateHttpApi(Uri baseUrl, string? adminKey = null)
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    public Uri BaseUrl { get; } = baseUrl;

    /// <summary><c>PUT /api/limiters/{name}</c> (admin).</summary>
    public async Task<LimiterSnapshot> SetLimitsAsync(string limiter, int maxConcurrency, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Put, $"api/limiters/{limiter}", new { maxConcurrency });
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        return await SendAsync<LimiterSnapshot>(request, cancellationToken);
    }

    /// <summary><c>GET /api/limiters/{name}</c>.</summary>
    public Task<LimiterSnapshot> GetLimiterAsync(string limiter, CancellationToken cancellationToken = default) =>
        SendAsync<LimiterSnapshot>(Request(HttpMethod.Get, $"api/limiters/{limiter}"), cancellationToken);

    /// <summary><c>GET /api/limiters/{name}</c> as sent, for diagnostics (holders, waiters, epoch).</summary>
    public async Task<JsonElement> GetLimiterJsonAsync(string limiter, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, $"api/limiters/{limiter}");
        using var cts = HarnessHttp.Within(CallTimeout, cancellationToken);
        using var response = await HarnessHttp.Client.SendAsync(request, cts.Token);
        var body = await response.Content.ReadAsStringAsync(cts.Token);
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body).RootElement.Clone()
            : throw new ApiCallException(response.StatusCode, $"GET /api/limiters/{limiter}", Excerpt(body));
    }

    /// <summary>
    /// <c>POST /api/limiters/{name}/leases</c>: a lease, or the answer's status and failure when none was granted
    /// (429 busy or recovering, 503 fenced or cluster unavailable). Throws only when no answer came.
    /// </summary>
    public async Task<AcquireAnswer> TryAcquireAsync(
        string limiter,
        string holder,
        TimeSpan wait,
        TimeSpan ttl,
        CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Post, $"api/limiters/{limiter}/leases", new
        {
            holder,
            weight = 1,
            waitMs = (int)wait.TotalMilliseconds,
            ttlMs = (int)ttl.TotalMilliseconds,
        });
        using var cts = HarnessHttp.Within(CallTimeout + wait, cancellationToken);
        using var response = await HarnessHttp.Client.SendAsync(request, cts.Token);
        var body = await response.Content.ReadAsStringAsync(cts.Token);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            var leaseId = JsonDocument.Parse(body).RootElement.GetProperty("lease").GetProperty("leaseId").GetString();
            return new AcquireAnswer(response.StatusCode, leaseId, null);
        }

        return new AcquireAnswer(response.StatusCode, null, ProblemDetail(body));
    }

    /// <summary><c>DELETE /api/limiters/{name}/leases/{id}</c>; true when something was released.</summary>
    public async Task<bool> ReleaseAsync(string limiter, string leaseId, CancellationToken cancellationToken = default)
    {
        var answer = await SendAsync<JsonElement>(
            Request(HttpMethod.Delete, $"api/limiters/{limiter}/leases/{Uri.EscapeDataString(leaseId)}"),
            cancellationToken);
        return answer.GetProperty("released").GetBoolean();
    }

    /// <summary><c>POST /api/batches</c> with <paramref name="body"/> (serialized camelCase).</summary>
    public Task<BatchSnapshot> SubmitBatchAsync(object body, CancellationToken cancellationToken = default) =>
        SendAsync<BatchSnapshot>(Request(HttpMethod.Post, "api/batches", body), cancellationToken);

    /// <summary>
    /// <c>POST /api/batches</c> with an NDJSON body: <paramref name="settings"/> (serialized camelCase) on the first line,
    /// then one item per line, streamed to the silo as it is written.
    /// </summary>
    public async Task<BatchSnapshot> SubmitBatchNdjsonAsync(
        object settings, IEnumerable<string> itemLines, CancellationToken cancellationToken = default, TimeSpan? timeout = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "api/batches"))
        {
            Content = new NdjsonContent(JsonSerializer.Serialize(settings, JsonSerializerOptions.Web), itemLines),
        };
        return await SendAsync<BatchSnapshot>(request, cancellationToken, timeout);
    }

    /// <summary><c>GET /api/batches/{id}</c>.</summary>
    public Task<BatchSnapshot> GetBatchAsync(string batchId, CancellationToken cancellationToken = default) =>
        SendAsync<BatchSnapshot>(Request(HttpMethod.Get, $"api/batches/{batchId}"), cancellationToken);

    /// <summary><c>GET /api/batches/{id}/results[?from=N]</c>: every NDJSON line, read to the end of the stream.</summary>
    public async Task<IReadOnlyList<OutcomeLine>> ReadResultsAsync(string batchId, TimeSpan timeout, CancellationToken cancellationToken = default, int from = 0)
    {
        using var cts = HarnessHttp.Within(timeout, cancellationToken);
        using var response = await HarnessHttp.Client.GetAsync(new Uri(BaseUrl, $"api/batches/{batchId}/results?from={from}"), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        if (!response.IsSuccessStatusCode)
        {
            throw new ApiCallException(response.StatusCode, $"GET results of {batchId}", Excerpt(await response.Content.ReadAsStringAsync(cts.Token)));
        }

        var lines = new List<OutcomeLine>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length > 0)
            {
                lines.Add(JsonSerializer.Deserialize<OutcomeLine>(line, JsonSerializerOptions.Web)!);
            }
        }

        return lines;
    }

    private HttpRequestMessage Request(HttpMethod method, string path, object? body = null) =>
        new(method, new Uri(BaseUrl, path)) { Content = body is null ? null : JsonContent.Create(body, options: JsonSerializerOptions.Web) };

    private static async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using (request)
        {
            using var cts = HarnessHttp.Within(timeout ?? CallTimeout, cancellationToken);
            using var response = await HarnessHttp.Client.SendAsync(request, cts.Token);
            var body = await response.Content.ReadAsStringAsync(cts.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new ApiCallException(response.StatusCode, $"{request.Method} {request.RequestUri!.AbsolutePath}", Excerpt(body));
            }

            return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web)!;
        }
    }

    /// <summary>The <c>detail</c> of a problem+json answer, else an excerpt of the body.</summary>
    private static string ProblemDetail(string body)
    {
        try
        {
            if (JsonDocument.Parse(body).RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { } text)
            {
                return Excerpt(text);
            }
        }
        catch (JsonException)
        {
        }

        return Excerpt(body);
    }

    private static string Excerpt(string body) => body.Length <= 400 ? body : body[..400] + "…";
}

/// <summary>An NDJSON request body written line by line as the request is sent (not built in memory first).</summary>
internal sealed class NdjsonContent : HttpContent
{
    private readonly string _firstLine;
    private readonly IEnumerable<string> _lines;

    public NdjsonContent(string firstLine, IEnumerable<string> lines)
    {
        _firstLine = firstLine;
        _lines = lines;
        Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), bufferSize: 64 * 1024, leaveOpen: true) { NewLine = "\n" };
        await writer.WriteLineAsync(_firstLine);
        foreach (var line in _lines)
        {
            await writer.WriteLineAsync(line);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

/// <summary>An error answer of the HTTP API.</summary>
public sealed class ApiCallException(HttpStatusCode status, string call, string body)
    : Exception($"{call} answered {(int)status}: {body}")
{
    public HttpStatusCode Status { get; } = status;
}
