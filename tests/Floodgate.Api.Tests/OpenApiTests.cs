using System.Net;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

/// <summary>A silo with no API key configured: client endpoints are open, admin endpoints are refused.</summary>
public sealed class OpenApiTests(OpenApiSilo silo) : IClassFixture<OpenApiSilo>
{
    [Fact]
    public async Task GetLimiter_NoKeysConfigured_Returns200WithoutKey()
    {
        var limiter = ApiSilo.UniqueName("open");

        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}"), HttpStatusCode.OK);

        Assert.Equal(limiter, status.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Submit_NoKeysConfigured_Returns201WithoutKey()
    {
        var response = await silo.SendAsync(HttpMethod.Post, "/api/batches", """{ "items": ["a"] }""");

        var progress = await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(1, progress.GetProperty("total").GetInt32());
        Assert.Equal("default", progress.GetProperty("limiter").GetString());
    }

    [Fact]
    public async Task Acquire_AnyKeySentWhenNoneConfigured_Returns201()
    {
        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{ApiSilo.UniqueName("open")}/leases", key: "some-key-the-silo-does-not-know");

        await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("an-admin-key-nobody-configured")]
    public async Task SetLimits_NoAdminKeyConfigured_Returns403NamingTheSetting(string? key)
    {
        var limiter = ApiSilo.UniqueName("open");

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 2 }""", key);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Forbidden, "Floodgate:Api:AdminKeys");
        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}"), HttpStatusCode.OK);
        Assert.NotEqual(2, status.GetProperty("maxConcurrency").GetInt32());
    }
}
