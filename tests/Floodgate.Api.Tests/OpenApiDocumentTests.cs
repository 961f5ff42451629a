using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floodgate.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Floodgate.Api.Tests;

/// <summary><c>/openapi/v1.json</c> describes every endpoint, its problems and its durations; no duration is <c>hh:mm:ss</c> on the wire.</summary>
public sealed partial class OpenApiDocumentTests(KeyedApiSilo silo, ITestOutputHelper output) : IClassFixture<KeyedApiSilo>
{
    public static TheoryData<string, string> Operations => new()
    {
        { "/api/batches", "post" },
        { "/api/batches/{id}", "get" },
        { "/api/batches/{id}", "delete" },
        { "/api/batches/{id}/results", "get" },
        { "/api/limiters/{name}", "get" },
        { "/api/limiters/{name}", "put" },
        { "/api/limiters/{name}/leases", "post" },
        { "/api/limiters/{name}/leases/{leaseId}", "put" },
        { "/api/limiters/{name}/leases/{leaseId}", "delete" },
        { "/api/limiters/{name}/requests/{requestId}", "delete" },
        { "/api/breakers/{name}", "get" },
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Document_EveryEndpoint_HasSuccessProblemsAndKeyRequirement(string path, string method)
    {
        var document = await DocumentAsync();

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        var responses = operation.GetProperty("responses");
        Assert.Contains(responses.EnumerateObject(), r => r.Name.StartsWith('2'));
        foreach (var status in new[] { "400", "401", "500", "503" }.Where(s => responses.TryGetProperty(s, out _)))
        {
            Assert.True(responses.GetProperty(status).GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path} {status}");
        }

        Assert.True(responses.TryGetProperty("401", out _));
        Assert.True(operation.TryGetProperty("security", out _));
    }

    [Theory]
    [InlineData("/api/batches", "post", "items")]
    [InlineData("/api/limiters/{name}", "put", "maxConcurrency")]
    [InlineData("/api/limiters/{name}/leases", "post", "waitMs")]
    public async Task Document_BodyEndpoints_DescribeTheirJsonBody(string path, string method, string property)
    {
        var document = await DocumentAsync();

        var body = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody");
        var schema = body.GetProperty("content").GetProperty("application/json").GetProperty("schema");
        if (schema.TryGetProperty("$ref", out var reference))
        {
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }

        Assert.True(schema.GetProperty("properties").TryGetProperty(property, out _));
    }

    [Fact]
    public async Task Document_ProblemSchema_ListsErrors()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");

        var problem = schemas.GetProperty("ApiProblem").GetProperty("properties");
        Assert.True(problem.TryGetProperty("errors", out _));
        Assert.True(problem.TryGetProperty("retryAfterMs", out _));
    }

    [Theory]
    [InlineData("BatchProgress", "averageLatency")]
    [InlineData("BatchProgress", "eta")]
    [InlineData("LimiterStatus", null)]
    [InlineData("HolderStatus", "oldestLeaseAge")]
    [InlineData("Lease", "ttl")]
    [InlineData("CircuitStatus", "breakDuration")]
    public async Task Document_Durations_AreIso8601Strings(string schema, string? property)
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");

        Assert.True(schemas.TryGetProperty(schema, out var found), $"schema {schema} missing");
        if (property is not null)
        {
            var duration = found.GetProperty("properties").GetProperty(property);
            Assert.Equal("duration", duration.GetProperty("format").GetString());
            Assert.False(duration.TryGetProperty("pattern", out _));
        }

        Assert.DoesNotContain("\\d{2}:\\d{2}", document.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_WithEveryDuration_CarryIso8601NeverClockStrings()
    {
        var limiter = ApiSilo.UniqueName("durations");
        var submitted = await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Post, "/api/batches", $$"""{ "items": [1, 2, 3], "processor": "echo", "limiter": "{{limiter}}" }""", silo.ClientKey),
            HttpStatusCode.Created);
        var id = submitted.GetProperty("batchId").GetString();
        await (await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results", key: silo.ClientKey)).Content.ReadAsStringAsync();
        var lease = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "ttlMs": 90500 }""", silo.ClientKey);

        var bodies = new List<string>
        {
            await (await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey)).Content.ReadAsStringAsync(),
            await lease.Content.ReadAsStringAsync(),
            await (await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey)).Content.ReadAsStringAsync(),
            await (await silo.SendAsync(HttpMethod.Get, $"/api/breakers/{limiter}", key: silo.ClientKey)).Content.ReadAsStringAsync(),
        };

        foreach (var body in bodies)
        {
            output.WriteLine(body);
            Assert.DoesNotMatch(ClockDuration(), body);
        }

        Assert.Equal("PT1M30.5S", JsonDocument.Parse(bodies[1]).RootElement.GetProperty("lease").GetProperty("ttl").GetString());
        Assert.Matches("^P", JsonDocument.Parse(bodies[0]).RootElement.GetProperty("averageLatency").GetString());
        Assert.Matches("^P", JsonDocument.Parse(bodies[2]).RootElement.GetProperty("holders")[0].GetProperty("oldestLeaseAge").GetString());
        Assert.Equal("PT1M", JsonDocument.Parse(bodies[3]).RootElement.GetProperty("breakDuration").GetString());
    }

    [Fact]
    public async Task GetProgress_AfterVersionOfFinishedBatch_AnswersAtOnce()
    {
        var submitted = await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Post, "/api/batches", """{ "items": [1], "processor": "echo", "limiter": "durations-wait" }""", silo.ClientKey),
            HttpStatusCode.Created);
        var id = submitted.GetProperty("batchId").GetString();
        await (await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results", key: silo.ClientKey)).Content.ReadAsStringAsync();

        var progress = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}?afterVersion=0&waitMs=60000", key: silo.ClientKey), HttpStatusCode.OK);

        Assert.Equal("completed", progress.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("afterVersion=abc", "Query 'afterVersion' must be a whole number (got 'abc')")]
    [InlineData("afterVersion=99999999999999999999", "Query 'afterVersion' must be a whole number (got '99999999999999999999')")]
    [InlineData("afterVersion=1&waitMs=-5", "Query 'waitMs' must be a whole number of at least 0 (got '-5')")]
    [InlineData("afterVersion=1&waitMs=soon", "Query 'waitMs' must be a whole number of at least 0 (got 'soon')")]
    [InlineData("afterVersion=1&waitMs=99999999999999999999", "Query 'waitMs' must be a whole number of at least 0 (got '99999999999999999999')")]
    [InlineData("waitMs=100", "needs 'afterVersion'")]
    public async Task GetProgress_BadWaitQuery_Returns400NamingTheParameter(string query, string mentions)
    {
        var response = await silo.SendAsync(HttpMethod.Get, $"/api/batches/b-anything?{query}", key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    private async Task<JsonElement> DocumentAsync() =>
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, "/openapi/v1.json"), HttpStatusCode.OK);

    // A JSON string that is a .NET TimeSpan ("00:00:01.5", "1.02:03:04"); timestamps ("2025-01-02T03:04:05Z") do not match.
    [GeneratedRegex("\"-?(\\d+\\.)?\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?\"")]
    private static partial Regex ClockDuration();
}
