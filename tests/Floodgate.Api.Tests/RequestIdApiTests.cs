using System.Net;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

/// <summary>
/// Acquire request ids over HTTP: <c>POST …/leases</c> with a <c>requestId</c> is idempotent, and
/// <c>DELETE …/requests/{requestId}</c> undoes it (answers like lease DELETE: 200 with a flag, idempotent).
/// </summary>
public sealed class RequestIdApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task Acquire_SameRequestIdTwice_ReturnsTheSameLeaseOnce()
    {
        var limiter = ApiSilo.UniqueName("req");
        var requestId = NewId();

        var first = await AcquireAsync(limiter, $$"""{ "requestId": "{{requestId}}" }""", HttpStatusCode.Created);
        var second = await AcquireAsync(limiter, $$"""{ "requestId": "{{requestId}}" }""", HttpStatusCode.Created);

        Assert.Equal(first.GetProperty("lease").GetProperty("leaseId").GetString(), second.GetProperty("lease").GetProperty("leaseId").GetString());
        var status = await StatusAsync(limiter);
        Assert.Equal(1, status.GetProperty("inUse").GetInt32());
        Assert.Equal(1L, status.GetProperty("grants").GetInt64());
    }

    [Theory]
    [InlineData("""{ "requestId": "" }""", "Request id")]
    [InlineData("""{ "requestId": "   " }""", "Request id")]
    [InlineData("""{ "requestId": 42 }""", "Property 'requestId' must be a string")]
    public async Task Acquire_InvalidRequestId_Returns400AndGrantsNothing(string body, string mentions)
    {
        var limiter = ApiSilo.UniqueName("req");

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", body, silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
        Assert.Equal(0L, (await StatusAsync(limiter)).GetProperty("grants").GetInt64());
    }

    [Fact]
    public async Task Acquire_RequestIdLongerThan200_Returns400AndGrantsNothing()
    {
        var limiter = ApiSilo.UniqueName("req");

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", $$"""{ "requestId": "{{new string('r', 201)}}" }""", silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "at most 200 characters");
        Assert.Equal(0L, (await StatusAsync(limiter)).GetProperty("grants").GetInt64());
    }

    [Fact]
    public async Task CancelRequest_Granted_ReleasesItsLeaseThenSaysNothingToCancel()
    {
        var limiter = ApiSilo.UniqueName("req");
        var requestId = NewId();
        await AcquireAsync(limiter, $$"""{ "requestId": "{{requestId}}" }""", HttpStatusCode.Created);

        var first = await ApiAssert.JsonAsync(await CancelAsync(limiter, requestId), HttpStatusCode.OK);
        var second = await ApiAssert.JsonAsync(await CancelAsync(limiter, requestId), HttpStatusCode.OK);

        Assert.True(first.GetProperty("cancelled").GetBoolean());
        Assert.False(first.TryGetProperty("detail", out _));
        Assert.False(second.GetProperty("cancelled").GetBoolean());
        Assert.Contains("held no lease", second.GetProperty("detail").GetString());
        Assert.Equal(0, (await StatusAsync(limiter)).GetProperty("inUse").GetInt32());
    }

    [Fact]
    public async Task CancelRequest_Waiting_RemovesTheWaiterAndTheAcquireAnswers409()
    {
        var limiter = ApiSilo.UniqueName("req");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 1 }""", silo.AdminKey), HttpStatusCode.OK);
        await AcquireAsync(limiter, """{ "holder": "first" }""", HttpStatusCode.Created);
        var requestId = NewId();
        var waiting = silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", $$"""{ "requestId": "{{requestId}}", "waitMs": 60000, "holder": "second" }""", silo.ClientKey);
        await WaitForStatusAsync(limiter, s => s.GetProperty("waiting").GetInt32() == 1);

        var cancelled = await ApiAssert.JsonAsync(await CancelAsync(limiter, requestId), HttpStatusCode.OK);

        Assert.True(cancelled.GetProperty("cancelled").GetBoolean());
        await ApiAssert.ProblemAsync(await waiting, HttpStatusCode.Conflict, "cancelled");
        var status = await StatusAsync(limiter);
        Assert.Equal(0, status.GetProperty("waiting").GetInt32());
        Assert.Equal(1, status.GetProperty("inUse").GetInt32());
    }

    [Fact]
    public async Task CancelRequest_BeforeItsAcquire_TheAcquireIsRefusedWith409()
    {
        var limiter = ApiSilo.UniqueName("req");
        var requestId = NewId();

        var cancelled = await ApiAssert.JsonAsync(await CancelAsync(limiter, requestId), HttpStatusCode.OK);
        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", $$"""{ "requestId": "{{requestId}}" }""", silo.ClientKey);

        Assert.False(cancelled.GetProperty("cancelled").GetBoolean());
        await ApiAssert.ProblemAsync(response, HttpStatusCode.Conflict, "cancelled");
        Assert.Equal(0L, (await StatusAsync(limiter)).GetProperty("grants").GetInt64());
    }

    [Theory]
    [InlineData("/api/limiters/bad$name/requests/abc", "Limiter name")]
    [InlineData("/api/limiters/ok-name/requests/%20", "Request id")]
    public async Task CancelRequest_BadNameOrId_Returns400(string path, string mentions)
    {
        var response = await silo.SendAsync(HttpMethod.Delete, path, key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    [Fact]
    public async Task CancelRequest_IdLongerThan200_Returns400()
    {
        var response = await CancelAsync(ApiSilo.UniqueName("req"), new string('r', 201));

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "at most 200 characters");
    }

    [Fact]
    public async Task CancelRequest_NoKey_Returns401()
    {
        var response = await silo.SendAsync(HttpMethod.Delete, $"/api/limiters/{ApiSilo.UniqueName("req")}/requests/{NewId()}");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "API key");
    }

    private static string NewId() => Guid.NewGuid().ToString("N");

    private Task<HttpResponseMessage> CancelAsync(string limiter, string requestId) =>
        silo.SendAsync(HttpMethod.Delete, $"/api/limiters/{limiter}/requests/{Uri.EscapeDataString(requestId)}", key: silo.ClientKey);

    private async Task<JsonElement> AcquireAsync(string limiter, string body, HttpStatusCode expected) =>
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", body, silo.ClientKey), expected);

    private async Task<JsonElement> StatusAsync(string limiter) =>
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);

    /// <summary>Polls the limiter's status until <paramref name="condition"/> holds (no timing asserted; the bound only stops a hang).</summary>
    private async Task<JsonElement> WaitForStatusAsync(string limiter, Func<JsonElement, bool> condition)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var status = await StatusAsync(limiter);
            if (condition(status))
            {
                return status;
            }

            await Task.Delay(25, limit.Token);
        }
    }
}
