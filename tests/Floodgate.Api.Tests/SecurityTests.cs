using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Silo.Security;
using Microsoft.AspNetCore.Http;

namespace Floodgate.Api.Tests;

/// <summary>The dashboard and <c>/metrics</c> go through the same key check as the API.</summary>
public sealed class SecurityTests(LockedDownSilo silo) : IClassFixture<LockedDownSilo>
{
    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/metrics")]
    public async Task Get_NoKey_Returns401ProblemWithBearerAndBasicChallenge(string path)
    {
        var response = await silo.SendAsync(HttpMethod.Get, path);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "X-Api-Key");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
    }

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/metrics")]
    public async Task Get_WrongKey_Returns401(string path)
    {
        var response = await silo.SendAsync(HttpMethod.Get, path, key: "not-a-key-of-this-silo");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "not valid");
    }

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/metrics")]
    public async Task Get_ClientKeyAsBearer_Returns200(string path)
    {
        var response = await silo.SendAsync(HttpMethod.Get, path, bearer: silo.ClientKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task GetDashboard_KeyAsBasicPassword_Returns200()
    {
        // What a browser sends after its login prompt: any user name, the key as the password.
        var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + silo.AdminKey)));

        var response = await silo.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Health_NoKey_StaysOpenForProbes()
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("user:the-password", "the-password")]
    [InlineData("the-key-as-user:", "the-key-as-user")]
    public void PresentedKey_BasicCredentials_ReadsPasswordElseUser(string credentials, string expected)
    {
        var headers = new HeaderDictionary { ["Authorization"] = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)) };

        Assert.Equal(expected, ApiKeyRing.PresentedKey(headers));
    }
}

/// <summary>A silo with keys, the dashboard on and <c>/metrics</c> behind a client key.</summary>
public sealed class LockedDownSilo : ApiSilo
{
    public string ClientKey { get; } = "client-" + Guid.NewGuid().ToString("N");

    public string AdminKey { get; } = "admin-" + Guid.NewGuid().ToString("N");

    public override IReadOnlyList<string> ConfiguredKeys => [ClientKey, AdminKey];

    protected override IEnumerable<KeyValuePair<string, string?>> ApiSettings =>
    [
        new("Floodgate:Api:ClientKeys:0", ClientKey),
        new("Floodgate:Api:AdminKeys:0", AdminKey),
        new("Floodgate:Api:MetricsRequireKey", "true"),
        new("Floodgate:Silo:Dashboard", "true"),
    ];
}
