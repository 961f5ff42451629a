using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests.Console;

/// <summary>
/// The console in a real headless Chromium against a real silo: the page, signed in with a client key as a browser sends
/// it after the login prompt (Basic, the key as the password), renders a limiter's in-use figure and a running batch's
/// progress. Fails in CI (CI=true) without chromium; skips locally with the reason.
/// </summary>
public sealed partial class ConsoleBrowserTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    private const int Items = 60;

    [SkippableFact]
    public async Task Console_ClientKey_RendersLimiterInUseAndBatchProgressReadOnly()
    {
        var unavailable = HeadlessChromium.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;

        // A limiter with a lease of two permits held, and a batch that runs for about 15 s (60 × 500 ms, two at a time).
        var limiter = ApiSilo.UniqueName("console");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 5 }""", silo.AdminKey, cancellationToken: ct), HttpStatusCode.OK);
        var lease = await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "holder": "console-test", "weight": 2, "waitMs": 5000, "ttlMs": 120000 }""", silo.ClientKey, cancellationToken: ct),
            HttpStatusCode.Created);
        var batch = await ApiAssert.JsonAsync(
            await silo.SendAsync(
                HttpMethod.Post,
                "/api/batches",
                $$"""{ "items": [{{string.Join(",", Enumerable.Range(0, Items))}}], "processor": "delay", "processorOptions": { "delayMs": 500 }, "limiter": "{{ApiSilo.UniqueName("console-batch")}}", "localLimit": 2 }""",
                silo.ClientKey,
                cancellationToken: ct),
            HttpStatusCode.Created);
        var batchId = batch.GetProperty("batchId").GetString()!;

        await using var browser = await HeadlessChromium.StartAsync(1280, 900, ct);
        await browser.SetHeadersAsync(new Dictionary<string, string> { ["Authorization"] = Basic(silo.ClientKey) }, ct);
        await browser.NavigateAsync($"{silo.Http.BaseAddress}console#batch={batchId}", ct);

        var seen = await WaitForAsync(browser, limiter, s => s.InUse == "2" && Done(s.Progress) >= 1 && s.Listed?.Contains(batchId) == true, ct);

        Assert.Equal("2", seen.InUse);
        Assert.Equal("5", seen.Limit);
        var progress = ProgressPattern().Match(seen.Progress!);
        Assert.True(progress.Success, $"batch progress shown as '{seen.Progress}'");
        Assert.Equal(Items, int.Parse(progress.Groups["total"].Value));
        var api = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{batchId}", key: silo.ClientKey, cancellationToken: ct), HttpStatusCode.OK);
        var doneNow = api.GetProperty("succeeded").GetInt32() + api.GetProperty("failed").GetInt32() + api.GetProperty("cancelled").GetInt32();
        Assert.InRange(Done(seen.Progress), 1, doneNow);
        Assert.Equal("client key", seen.Role);
        Assert.Equal(0, seen.AdminControls); // read-only for a client key: no limit form, no cancel button

        if (Environment.GetEnvironmentVariable("FLOODGATE_CONSOLE_SCREENSHOT") is { Length: > 0 } screenshot)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ct); // some chart history
            await File.WriteAllBytesAsync(screenshot, await browser.ScreenshotAsync(ct), ct);
        }

        await silo.SendAsync(HttpMethod.Delete, $"/api/batches/{batchId}", key: silo.ClientKey, cancellationToken: ct);
        await silo.SendAsync(HttpMethod.Delete, $"/api/limiters/{limiter}/leases/{lease.GetProperty("lease").GetProperty("leaseId").GetString()}", key: silo.ClientKey, cancellationToken: ct);
    }

    [SkippableFact]
    public async Task Console_AdminKey_ShowsLimitAndCancelControls()
    {
        var unavailable = HeadlessChromium.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        var limiter = ApiSilo.UniqueName("console-admin");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 4 }""", silo.AdminKey, cancellationToken: ct), HttpStatusCode.OK);

        await using var browser = await HeadlessChromium.StartAsync(1280, 900, ct);
        await browser.SetHeadersAsync(new Dictionary<string, string> { ["Authorization"] = Basic(silo.AdminKey) }, ct);
        await browser.NavigateAsync($"{silo.Http.BaseAddress}console", ct);

        var seen = await WaitForAsync(browser, limiter, s => s.Limit == "4" && s.AdminControls > 0, ct);

        Assert.Equal("admin key", seen.Role);
    }

    private static async Task<ConsoleView> WaitForAsync(HeadlessChromium browser, string limiter, Func<ConsoleView, bool> ready, CancellationToken ct)
    {
        var script = $$"""
            (() => {
              const card = [...document.querySelectorAll('[data-testid=limiter]')].find(c => c.dataset.limiter === {{JsonSerializer.Serialize(limiter)}});
              const text = (root, id) => root ? (root.querySelector(`[data-testid=${id}]`) || {}).textContent ?? null : null;
              return JSON.stringify({
                inUse: text(card, 'limiter-in-use'),
                limit: text(card, 'limiter-limit'),
                progress: text(document, 'batch-progress'),
                role: text(document, 'role'),
                adminControls: document.querySelectorAll('.set-limit, #cancel-batch').length,
                listed: [...document.querySelectorAll('#batch-list tr[data-batch]')].map(r => r.dataset.batch),
                page: location.href + ' ' + (document.body ? document.body.innerText.slice(0, 300) : ''),
                problem: (p => p && !p.hidden ? p.textContent : null)(document.getElementById('problem')),
              });
            })()
            """;
        ConsoleView? last = null;
        while (true)
        {
            try
            {
                var json = (string?)await browser.EvaluateAsync(script, ct);
                last = json is null ? null : JsonSerializer.Deserialize<ConsoleView>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web));
                if (last is not null && ready(last))
                {
                    return last;
                }

                await Task.Delay(200, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw new TimeoutException($"The console never showed what the test waits for; last seen: {JsonSerializer.Serialize(last)}");
            }
        }
    }

    private static int Done(string? progress) =>
        progress is not null && ProgressPattern().Match(progress) is { Success: true } m ? int.Parse(m.Groups["done"].Value) : -1;

    private static string Basic(string key) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"console:{key}"));

    [GeneratedRegex(@"^(?<done>\d+) / (?<total>\d+)$")]
    private static partial Regex ProgressPattern();

    private sealed record ConsoleView(
        string? InUse, string? Limit, string? Progress, string? Role, int AdminControls, string[]? Listed, string? Page, string? Problem);
}
