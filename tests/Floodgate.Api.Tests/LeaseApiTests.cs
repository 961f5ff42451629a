using System.Net;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

public sealed class LeaseApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task Acquire_FreeLimiter_Returns201WithLeaseAndLocation()
    {
        var limiter = ApiSilo.UniqueName("lease");

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "weight": 2, "ttlMs": 30000 }""", silo.ClientKey);

        var lease = (await ApiAssert.JsonAsync(response, HttpStatusCode.Created)).GetProperty("lease");
        var leaseId = lease.GetProperty("leaseId").GetString();
        Assert.Equal($"/api/limiters/{limiter}/leases/{leaseId}", response.Headers.Location?.OriginalString);
        Assert.Equal(limiter, lease.GetProperty("limiter").GetString());
        Assert.Equal("http-client", lease.GetProperty("holder").GetString());
        Assert.Equal(2, lease.GetProperty("weight").GetInt32());
        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);
        Assert.Equal(2, status.GetProperty("inUse").GetInt32());
    }

    [Fact]
    public async Task Acquire_NoBody_GrantsOnePermitToDefaultHolder()
    {
        var limiter = ApiSilo.UniqueName("lease");

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", key: silo.ClientKey);

        var lease = (await ApiAssert.JsonAsync(response, HttpStatusCode.Created)).GetProperty("lease");
        Assert.Equal(1, lease.GetProperty("weight").GetInt32());
        Assert.Equal("http-client", lease.GetProperty("holder").GetString());
    }

    [Fact]
    public async Task Renew_HeldLease_Returns200WithRenewedLease()
    {
        var (limiter, leaseId) = await AcquireAsync();

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}/leases/{leaseId}", key: silo.ClientKey);

        var lease = (await ApiAssert.JsonAsync(response, HttpStatusCode.OK)).GetProperty("lease");
        Assert.Equal(leaseId, lease.GetProperty("leaseId").GetString());
    }

    [Fact]
    public async Task Renew_NamingAnotherHolder_Returns404AndLeaseStaysAsItWas()
    {
        var (limiter, leaseId) = await AcquireAsync();

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}/leases/{leaseId}", """{ "holder": "someone-else" }""", silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound, leaseId);
        var mine = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}/leases/{leaseId}", key: silo.ClientKey);
        await ApiAssert.JsonAsync(mine, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Renew_UnknownLease_Returns404Problem()
    {
        var limiter = ApiSilo.UniqueName("lease");

        var response = await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}/leases/nosuchlease", key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound, "Lease 'nosuchlease'");
        await ApiAssert.ProblemAsync(
            await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}/leases/nosuchlease", key: silo.ClientKey),
            HttpStatusCode.NotFound,
            "unknown or expired");
    }

    [Fact]
    public async Task Release_HeldLease_ReturnsReleasedTrueThenFalseWithDetail()
    {
        var (limiter, leaseId) = await AcquireAsync();

        var first = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Delete, $"/api/limiters/{limiter}/leases/{leaseId}", key: silo.ClientKey), HttpStatusCode.OK);
        var second = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Delete, $"/api/limiters/{limiter}/leases/{leaseId}", key: silo.ClientKey), HttpStatusCode.OK);

        Assert.True(first.GetProperty("released").GetBoolean());
        Assert.False(first.TryGetProperty("detail", out _));
        Assert.False(second.GetProperty("released").GetBoolean());
        Assert.Contains("nothing to release", second.GetProperty("detail").GetString());
        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);
        Assert.Equal(0, status.GetProperty("inUse").GetInt32());
    }

    [Fact]
    public async Task Acquire_WhenFull_Returns429WithRetryAfter()
    {
        var limiter = ApiSilo.UniqueName("full");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 1 }""", silo.AdminKey), HttpStatusCode.OK);
        await AcquireAsync(limiter);

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "waitMs": 100, "holder": "second" }""", silo.ClientKey);

        await ApiAssert.ProblemAsync(response, (HttpStatusCode)429, "became free");
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter >= TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData("""{ "weight": 0 }""", "Weight")]
    [InlineData("""{ "weight": 1000000 }""", "Weight")]
    [InlineData("""{ "waitMs": -1 }""", "Wait timeout")]
    [InlineData("""{ "holder": "bad holder!" }""", "Holder")]
    [InlineData("""{ "holder": "" }""", "Holder")]
    [InlineData("""{ "ttlMs": 1 }""", "Lease TTL")]
    [InlineData("""{ "wieght": 2 }""", "Unknown property 'wieght'")]
    public async Task Acquire_InvalidRequest_Returns400AndGrantsNothing(string body, string mentions)
    {
        var limiter = ApiSilo.UniqueName("bad-lease");

        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", body, silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
        var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);
        Assert.Equal(0, status.GetProperty("inUse").GetInt32());
        Assert.Equal(0L, status.GetProperty("grants").GetInt64());
    }

    [Fact]
    public async Task Acquire_CallerDisconnectsWhileQueued_LeavesNoWaiter()
    {
        var limiter = ApiSilo.UniqueName("gone");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 1 }""", silo.AdminKey), HttpStatusCode.OK);
        await AcquireAsync(limiter);
        using var hangUp = new CancellationTokenSource();

        var queued = silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "waitMs": 60000, "holder": "leaver" }""", silo.ClientKey, cancellationToken: hangUp.Token);
        await WaitForStatusAsync(limiter, s => s.GetProperty("waiting").GetInt32() == 1);
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);

        var status = await WaitForStatusAsync(limiter, s => s.GetProperty("waiting").GetInt32() == 0);
        Assert.Equal(1, status.GetProperty("inUse").GetInt32());
    }

    [Fact]
    public async Task Acquire_NoKey_Returns401()
    {
        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{ApiSilo.UniqueName("lease")}/leases");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "API key");
    }

    private async Task<(string Limiter, string LeaseId)> AcquireAsync(string? limiter = null)
    {
        limiter ??= ApiSilo.UniqueName("lease");
        var response = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "holder": "first" }""", silo.ClientKey);
        var lease = (await ApiAssert.JsonAsync(response, HttpStatusCode.Created)).GetProperty("lease");
        return (limiter, lease.GetProperty("leaseId").GetString()!);
    }

    /// <summary>Polls the limiter's status until <paramref name="condition"/> holds (no timing is asserted; the bound only stops a hang).</summary>
    private async Task<JsonElement> WaitForStatusAsync(string limiter, Func<JsonElement, bool> condition)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var status = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/limiters/{limiter}", key: silo.ClientKey), HttpStatusCode.OK);
            if (condition(status))
            {
                return status;
            }

            await Task.Delay(25, limit.Token);
        }
    }
}
