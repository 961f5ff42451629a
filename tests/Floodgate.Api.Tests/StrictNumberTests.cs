using System.Net;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

/// <summary>
/// Numbers sent as JSON strings are mistyped properties: every endpoint refuses them with a 400 naming the property and
/// changes nothing (the README promises it; ASP.NET's web defaults would read "5" as 5).
/// </summary>
public sealed class StrictNumberTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Theory]
    [InlineData("localLimit", "\"5\"")]
    [InlineData("globalLimit", "\"10\"")]
    [InlineData("permitTimeoutMs", "\"1000\"")]
    public async Task Submit_NumberAsString_Returns400NamingPropertyAndCreatesNothing(string property, string value)
    {
        var id = "b-strict-" + Guid.NewGuid().ToString("N")[..10];
        var body = $$"""{ "items": [1], "processor": "echo", "{{property}}": {{value}}, "batchId": "{{id}}" }""";

        var response = await silo.SendAsync(HttpMethod.Post, "/api/batches", body, silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, $"Property '{property}' must be a whole number");
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.NotFound, id);
    }

    [Theory]
    [InlineData("weight", "\"2\"")]
    [InlineData("waitMs", "\"100\"")]
    [InlineData("ttlMs", "\"30000\"")]
    public async Task Acquire_NumberAsString_Returns400NamingPropertyAndGrantsNothing(string property, string value)
    {
        var limiter = ApiSilo.UniqueName("strict-lease");

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", $$"""{ "{{property}}": {{value}} }""", silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, $"Property '{property}' must be a whole number");
        var status = await StatusAsync(limiter);
        Assert.Equal(0, status.GetProperty("inUse").GetInt32());
        Assert.Equal(0L, status.GetProperty("grants").GetInt64());
    }

    [Theory]
    [InlineData("""{ "maxConcurrency": "9" }""", "maxConcurrency", "a whole number")]
    [InlineData("""{ "maxConcurrency": 9, "requestsPerMinute": "600" }""", "requestsPerMinute", "a whole number")]
    [InlineData("""{ "maxConcurrency": 9, "rateSafetyFactor": "0.5" }""", "rateSafetyFactor", "a number")]
    [InlineData("""{ "maxConcurrency": 9, "rateSafetyFactor": "NaN" }""", "rateSafetyFactor", "a number")]
    public async Task SetLimits_NumberAsString_Returns400NamingPropertyAndKeepsLimitsAndRate(string body, string property, string expected)
    {
        var limiter = ApiSilo.UniqueName("strict-admin");
        await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 4, "requestsPerMinute": 120, "rateSafetyFactor": 0.9 }""", silo.AdminKey),
            HttpStatusCode.OK);

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", body, silo.AdminKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, $"Property '{property}' must be {expected}");
        var status = await StatusAsync(limiter);
        Assert.Equal(4, status.GetProperty("maxConcurrency").GetInt32());
        Assert.Equal(120, status.GetProperty("requestsPerMinute").GetInt32());
        Assert.Equal(0.9, status.GetProperty("rateSafetyFactor").GetDouble());
    }

    [Theory]
    [InlineData("""{ "ttlMs": "20000" }""", "Unknown property 'ttlMs'")]
    [InlineData("""{ "holder": 1 }""", "Property 'holder'")]
    public async Task Renew_MistypedBody_Returns400NamingPropertyAndKeepsTheLease(string body, string mentions)
    {
        var limiter = ApiSilo.UniqueName("strict-renew");
        var granted = await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "holder": "first", "ttlMs": 30000 }""", silo.ClientKey),
            HttpStatusCode.Created);
        var leaseId = granted.GetProperty("lease").GetProperty("leaseId").GetString();

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}/leases/{leaseId}", body, silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
        var status = await StatusAsync(limiter);
        Assert.Equal(1, status.GetProperty("inUse").GetInt32());
        Assert.Equal(1L, status.GetProperty("grants").GetInt64());
    }

    private async Task<JsonElement> StatusAsync(string limiter) =>
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);
}
