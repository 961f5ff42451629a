using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Floodgate.Simulator.Tests;

/// <summary>A running <see cref="SimulatorServer"/> on a free port plus an <see cref="HttpClient"/> pointing at it.</summary>
internal sealed class TestSimulator : IAsyncDisposable
{
    private TestSimulator(SimulatorServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(20) };
    }

    public SimulatorServer Server { get; }

    public HttpClient Http { get; }

    public static async Task<TestSimulator> StartAsync(SimulatorOptions options, TimeProvider? timeProvider = null) =>
        new(await SimulatorServer.StartAsync(options, timeProvider: timeProvider));

    public static StringContent ChatBody(string prompt, string? model = null)
    {
        var body = new Dictionary<string, object>
        {
            ["messages"] = new[]
            {
                new { role = "system", content = "You are terse." },
                new { role = "user", content = prompt },
            },
        };
        if (model is not null)
        {
            body["model"] = model;
        }

        return new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
    }

    public Task<HttpResponseMessage> ChatAsync(string prompt, string? idempotencyKey = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = ChatBody(prompt) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostRawAsync(string json) =>
        Http.PostAsync("v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public static async Task<string> ErrorTypeAsync(HttpResponseMessage response) =>
        (await ReadJsonAsync(response)).GetProperty("error").GetProperty("type").GetString()!;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
