using System.Net;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

public sealed class LimiterApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task SetLimits_AdminKey_Returns200AndChangesTheLimit()
    {
        var limiter = ApiSilo.UniqueName("admin");

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 7 }""", silo.AdminKey);

        var status = await ApiAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(7, status.GetProperty("maxConcurrency").GetInt32());
        Assert.Equal("admin", status.GetProperty("limitSource").GetString());
        Assert.Equal(7, await MaxConcurrencyAsync(limiter));
    }

    [Fact]
    public async Task SetLimits_AdminKeyAsBearer_Returns200()
    {
        var limiter = ApiSilo.UniqueName("admin");

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 3 }""", bearer: silo.AdminKey);

        await ApiAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(3, await MaxConcurrencyAsync(limiter));
    }

    [Fact]
    public async Task SetLimits_ClientKey_Returns403AndKeepsTheLimit()
    {
        var limiter = ApiSilo.UniqueName("admin");
        var before = await MaxConcurrencyAsync(limiter);

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 2 }""", silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Forbidden, "admin key");
        Assert.Equal(before, await MaxConcurrencyAsync(limiter));
    }

    [Fact]
    public async Task SetLimits_NoKey_Returns401WithChallengeAndKeepsTheLimit()
    {
        var limiter = ApiSilo.UniqueName("admin");
        var before = await MaxConcurrencyAsync(limiter);

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 2 }""");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "X-Api-Key");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal(before, await MaxConcurrencyAsync(limiter));
    }

    [Fact]
    public async Task SetLimits_WrongKey_Returns401AndKeepsTheLimit()
    {
        var limiter = ApiSilo.UniqueName("admin");
        var before = await MaxConcurrencyAsync(limiter);

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 2 }""", silo.AdminKey + "x");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "not valid");
        Assert.Equal(before, await MaxConcurrencyAsync(limiter));
    }

    [Theory]
    [InlineData("""{ "maxConcurrency": 0 }""", "Max concurrency must be between 1")]
    [InlineData("""{ "maxConcurrency": 5, "rateSafetyFactor": 2 }""", "Rate safety factor")]
    [InlineData("""{ "maxConcurrency": 5, "requestsPerMinute": -1 }""", "Requests per minute")]
    [InlineData("""{ "requestsPerMinute": 600 }""", "maxConcurrency is required")]
    [InlineData("""{ "maxConcurency": 5 }""", "Unknown property 'maxConcurency'")]
    [InlineData("""{ "maxConcurrency": 5.5 }""", "Property 'maxConcurrency' must be a whole number")]
    [InlineData("", "needs a JSON object")]
    public async Task SetLimits_InvalidLimits_Returns400AndKeepsTheLimit(string body, string mentions)
    {
        var limiter = ApiSilo.UniqueName("admin");
        var before = await MaxConcurrencyAsync(limiter);

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", body, silo.AdminKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
        Assert.Equal(before, await MaxConcurrencyAsync(limiter));
    }

    [Theory]
    [InlineData("/api/limiters/bad%20name!", "Limiter name")]
    [InlineData("/api/limiters/bad$name/leases", "Limiter name")]
    [InlineData("/api/breakers/bad$name", "Breaker name")]
    public async Task Get_BadNameInRoute_Returns400(string path, string mentions)
    {
        var method = path.EndsWith("/leases", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get;

        var response = await silo.SendAsync(method, path, key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    [Fact]
    public async Task GetLimiter_EveryConfiguredKey_Returns200()
    {
        var limiter = ApiSilo.UniqueName("status");

        foreach (var key in silo.ConfiguredKeys)
        {
            var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: key), HttpStatusCode.OK);
            Assert.Equal(limiter, status.GetProperty("name").GetString());
        }

        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", bearer: silo.SecondClientKey), HttpStatusCode.OK);
    }

    [Fact]
    public async Task GetLimiter_NoKey_Returns401()
    {
        var response = await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{ApiSilo.UniqueName("status")}");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "API key");
    }

    [Fact]
    public async Task GetBreaker_AnyName_Returns200WithClosedCircuit()
    {
        var breaker = ApiSilo.UniqueName("breaker");

        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/breakers/{breaker}", key: silo.ClientKey), HttpStatusCode.OK);

        Assert.Equal(breaker, status.GetProperty("name").GetString());
        Assert.Equal("closed", status.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Responses_AnyOutcome_NeverContainAnApiKey()
    {
        var limiter = ApiSilo.UniqueName("secret");
        var wrongKey = "wrong-key-" + Guid.NewGuid().ToString("N");
        var responses = new List<HttpResponseMessage>
        {
            await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 4 }""", silo.AdminKey),
            await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 4 }""", silo.ClientKey),
            await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 0 }""", silo.AdminKey),
            await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 4 }""", wrongKey),
            await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", bearer: wrongKey),
            await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.SecondClientKey),
            await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "holder": "h" }""", silo.ClientKey),
            await silo.SendAsync(HttpMethod.Post, "/api/batches", """{ "items": [] }""", silo.ClientKey),
            await silo.SendAsync(HttpMethod.Post, "/api/batches", """{ "items": ["x"] }""", silo.AdminKey),
            await silo.SendAsync(HttpMethod.Get, "/api/batches/b-unknown-one", key: silo.ClientKey),
        };

        foreach (var response in responses)
        {
            var text = await response.Content.ReadAsStringAsync()
                + string.Join("\n", response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value));
            foreach (var key in silo.ConfiguredKeys.Append(wrongKey))
            {
                Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            }
        }
    }

    private async Task<int> MaxConcurrencyAsync(string limiter)
    {
        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);
        return status.GetProperty("maxConcurrency").GetInt32();
    }
}
