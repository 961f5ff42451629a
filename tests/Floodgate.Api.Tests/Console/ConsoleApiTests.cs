using System.Net;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests.Console;

/// <summary>The console's page behind the client policy, and the catalog endpoints it lists limiters and breakers with.</summary>
public sealed class ConsoleApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task Console_NoKey_Returns401WithBasicChallenge()
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/console");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "X-Api-Key");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
    }

    [Theory]
    [InlineData("/console", "text/html")]
    [InlineData("/console/console.js", "text/javascript")]
    [InlineData("/console/console.css", "text/css")]
    public async Task Console_ClientKey_ServesTheEmbeddedPage(string path, string mediaType)
    {
        var response = await silo.SendAsync(HttpMethod.Get, path, key: silo.ClientKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Console_UnknownFile_Returns404()
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/console/secrets.json", key: silo.ClientKey);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData(false, "client")]
    [InlineData(true, "admin")]
    public async Task Session_Key_SaysItsRoleAndNeverTheKey(bool admin, string role)
    {
        var key = admin ? silo.AdminKey : silo.ClientKey;

        var response = await silo.SendAsync(HttpMethod.Get, "/console/session", key: key);

        var session = await ApiAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(role, session.GetProperty("role").GetString());
        Assert.DoesNotContain(key, session.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_NoKey_LinksTheConsoleWithoutData()
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("href=\"/console\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListLimiters_AfterALimiterIsUsed_ListsIt()
    {
        var limiter = ApiSilo.UniqueName("listed");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);

        // Limiters register one way as they activate: the catalog hears of it just after.
        var names = await EventuallyListedAsync("/api/limiters", limiter);

        Assert.Contains(limiter, names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public async Task ListBreakers_AfterABreakerIsUsed_ListsIt()
    {
        var breaker = ApiSilo.UniqueName("listed");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/breakers/{breaker}", key: silo.ClientKey), HttpStatusCode.OK);

        var names = await EventuallyListedAsync("/api/breakers", breaker);

        Assert.Contains(breaker, names);
    }

    [Theory]
    [InlineData("/api/limiters")]
    [InlineData("/api/breakers")]
    public async Task List_NoKey_Returns401(string path)
    {
        var response = await silo.SendAsync(HttpMethod.Get, path);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "X-Api-Key");
    }

    [Fact]
    public async Task BreakerStatus_SaysSinceWhen()
    {
        var response = await silo.SendAsync(HttpMethod.Get, $"/api/breakers/{ApiSilo.UniqueName("since")}", key: silo.ClientKey);

        var status = await ApiAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.True(status.GetProperty("stateSince").TryGetDateTimeOffset(out _));
    }

    private async Task<List<string>> EventuallyListedAsync(string path, string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var list = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, path, key: silo.ClientKey), HttpStatusCode.OK);
            var names = list.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToList();
            if (names.Contains(name) || timeout.IsCancellationRequested)
            {
                return names;
            }

            await Task.Delay(50);
        }
    }
}
