using System.Net;
using System.Threading.RateLimiting;
using Floodgate.Client.RateLimiting;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Floodgate.Tests.RateLimiting;

/// <summary>The adapter as ASP.NET Core's global rate limiter: a web app's requests share the account's global count.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AspNetRateLimitingTests(ClusterFixture fixture)
{
    [Fact]
    public async Task UseRateLimiter_WithFloodgateLimiter_NeverHandlesMoreThanTheGlobalLimitAtOnce()
    {
        var name = Unique.Name("web");
        await fixture.Client.SetLimitsAsync(name, new LimiterLimits(2));
        var running = 0;
        var maxRunning = 0;

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRateLimiter(o => o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(
            _ => RateLimitPartition.Get("account", _ => fixture.Client.GetRateLimiter(name, new FloodgateRateLimiterOptions { QueueLimit = 100 }))));
        await using var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/work", async () =>
        {
            InterlockedMax.Raise(ref maxRunning, Interlocked.Increment(ref running));
            await Task.Delay(30);
            Interlocked.Decrement(ref running);
            return "done";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        var statuses = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ => (await http.GetAsync("/work")).StatusCode));
        await app.StopAsync();

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.InRange(maxRunning, 1, 2);
        await Eventually.TrueAsync(async () => (await fixture.Client.GetLimiterStatusAsync(name)).InUse == 0);
    }
}
