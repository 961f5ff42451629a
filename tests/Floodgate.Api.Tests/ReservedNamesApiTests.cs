using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Batches;
using Floodgate.Client.Http;
using Floodgate.Grains.WarmUp;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.DependencyInjection;

namespace Floodgate.Api.Tests;

/// <summary>
/// The HTTP API and the SDK over HTTP refuse the warm-up's reserved names like any other bad name (400, nothing
/// created); only the silo's own warm-up, with its pass, reads its batch back.
/// </summary>
public sealed class ReservedNamesApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    private const string Refusal = "names starting with 'floodgate-warm-up.' are reserved for the silo's start-up warm-up";

    [Theory]
    [InlineData("POST", "/api/batches", """{ "items": [1], "batchId": "{reserved}" }""")]
    [InlineData("POST", "/api/batches", """{ "items": [1], "limiter": "{reserved}", "batchId": "{id}" }""")]
    [InlineData("POST", "/api/batches", """{ "items": [1], "breaker": "{reserved}", "batchId": "{id}" }""")]
    [InlineData("POST", "/api/batches", """{ "items": [1], "additionalLimiters": ["{reserved}"], "batchId": "{id}" }""")]
    [InlineData("POST", "/api/batches", """{ "items": [1], "idempotencyKey": "{reserved}" }""")]
    [InlineData("GET", "/api/batches/{reserved}", null)]
    [InlineData("GET", "/api/batches/{reserved}/results", null)]
    [InlineData("POST", "/api/batches/{reserved}/retry", null)]
    [InlineData("DELETE", "/api/batches/{reserved}", null)]
    [InlineData("PUT", "/api/limiters/{reserved}", """{ "maxConcurrency": 5 }""")]
    [InlineData("GET", "/api/limiters/{reserved}", null)]
    [InlineData("POST", "/api/limiters/{reserved}/leases", null)]
    [InlineData("PUT", "/api/limiters/{reserved}/leases/lease-1", null)]
    [InlineData("DELETE", "/api/limiters/{reserved}/leases/lease-1", null)]
    [InlineData("DELETE", "/api/limiters/{reserved}/requests/request-1", null)]
    [InlineData("GET", "/api/breakers/{reserved}", null)]
    public async Task Request_ReservedName_Returns400NamingTheRuleAndCreatesNothing(string method, string path, string? body)
    {
        var reserved = WarmUpNames.NewRun();
        var id = "b-reserved-" + Guid.NewGuid().ToString("N")[..10];

        var response = await silo.SendAsync(new HttpMethod(method), Fill(path, reserved, id), Fill(body, reserved, id), silo.AdminKey);

        var errors = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, Refusal);
        Assert.Contains(errors, e => e.Contains(reserved, StringComparison.Ordinal));
        await AssertNothingCreatedAsync(reserved, id);
    }

    [Fact]
    public async Task Submit_NdjsonWithReservedLimiter_Returns400AndCreatesNothing()
    {
        var reserved = WarmUpNames.NewRun();
        var id = "b-reserved-" + Guid.NewGuid().ToString("N")[..10];
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/batches")
        {
            Content = new StringContent($$"""{ "limiter": "{{reserved}}", "batchId": "{{id}}" }""" + "\n1\n2\n", Encoding.UTF8, "application/x-ndjson"),
        };
        request.Headers.Add("X-Api-Key", silo.ClientKey);

        await ApiAssert.ProblemAsync(await silo.Http.SendAsync(request), HttpStatusCode.BadRequest, Refusal);
        await AssertNothingCreatedAsync(reserved, id);
    }

    [Theory]
    [InlineData("/api/batches/{reserved}")]
    [InlineData("/api/batches/{reserved}/results")]
    public async Task Read_WarmUpPass_ReachesTheBatchWhereNoneIsFound404(string path)
    {
        var reserved = WarmUpNames.NewRun();

        var response = await SendWithPassAsync(Fill(path, reserved, id: ""), silo.Services.GetRequiredService<WarmUpPass>().Value);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound, reserved);
    }

    [Fact]
    public async Task Read_WrongWarmUpPass_Returns400AsWithout()
    {
        var reserved = WarmUpNames.NewRun();

        var response = await SendWithPassAsync($"/api/batches/{reserved}", new string('0', 64));

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, Refusal);
    }

    [Fact]
    public async Task HttpSdk_ReservedNames_RefusedBeforeAnyRequest()
    {
        var handler = new CountingHandler();
        using var http = new HttpClient(handler) { BaseAddress = silo.Http.BaseAddress };
        var client = new FloodgateHttpClient(http, new FloodgateHttpClientOptions { ApiKey = silo.AdminKey });
        var reserved = WarmUpNames.NewRun();
        var spec = new BatchSpec { Items = ["1"], Processor = "echo" };

        Func<Task>[] calls =
        [
            () => client.SubmitBatchAsync(spec, reserved),
            () => client.SubmitBatchAsync(spec with { Limiter = reserved }),
            () => client.SubmitBatchAsync(spec.ToDefinition() with { Breaker = reserved }, AsyncItems(), "b-ok"),
            () => Task.FromResult(client.GetBatch(reserved)),
            () => client.GetLimiterStatusAsync(reserved),
            () => client.SetLimitsAsync(reserved, new LimiterLimits(5)),
            () => client.GetBreakerStatusAsync(reserved),
        ];
        foreach (var call in calls)
        {
            Assert.Contains(Refusal, (await Assert.ThrowsAsync<FloodgateValidationException>(call)).Message);
        }

        Assert.Equal(0, handler.Requests);
    }

    private async Task AssertNothingCreatedAsync(string reserved, string id)
    {
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        foreach (var batchId in new[] { id, reserved, BatchIds.New(reserved) })
        {
            await Assert.ThrowsAsync<FloodgateNotFoundException>(() => grains.GetGrain<IBatchGrain>(batchId).GetProgressAsync());
        }

        var limiter = await grains.GetGrain<IGlobalLimiterGrain>(reserved).GetStatusAsync();
        Assert.NotEqual(LimitSource.Admin, limiter.LimitSource);
        Assert.Equal(0, limiter.InUse);
    }

    private Task<HttpResponseMessage> SendWithPassAsync(string path, string pass)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", silo.ClientKey);
        request.Headers.Add(WarmUpPass.Header, pass);
        return silo.Http.SendAsync(request);
    }

    [return: NotNullIfNotNull(nameof(text))]
    private static string? Fill(string? text, string reserved, string id) => text?.Replace("{reserved}", reserved).Replace("{id}", id);

    private static async IAsyncEnumerable<string> AsyncItems()
    {
        await Task.Yield();
        yield return "1";
    }

    private sealed class CountingHandler : HttpMessageHandler
    {
        public int Requests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError));
        }
    }
}
