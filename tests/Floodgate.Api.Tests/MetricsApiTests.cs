using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Floodgate.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Floodgate.Api.Tests;

public sealed partial class MetricsApiTests(KeyedApiSilo silo, ITestOutputHelper output) : IClassFixture<KeyedApiSilo>
{
    // Generous: only a stuck silo takes this long; the figures are polled because the exporter caches a scrape briefly.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Scrape_AfterEchoBatch_LimiterGrantsAndSucceededItemsGrow()
    {
        var limiter = ApiSilo.UniqueName("metrics");
        var before = await ScrapeAsync();
        var succeededBefore = Sum(before, "floodgate_items_total", ("processor", "echo"), ("status", "succeeded"));

        var id = await SubmitAsync($$"""{ "items": [1, 2, 3, 4, 5], "processor": "echo", "limiter": "{{limiter}}", "localLimit": 2 }""");
        await ReadResultsAsync(id);

        var after = await ScrapeUntilAsync(s =>
            Sum(s, "floodgate_limiter_grants_total", ("limiter", limiter)) >= 5
            && Sum(s, "floodgate_items_total", ("processor", "echo"), ("status", "succeeded")) >= succeededBefore + 5);
        output.WriteLine(after);
        Assert.Equal(0, Sum(before, "floodgate_limiter_grants_total", ("limiter", limiter)));
        Assert.True(Sum(after, "floodgate_limiter_grants_total", ("limiter", limiter)) >= 5);
        Assert.True(Sum(after, "floodgate_items_total", ("processor", "echo"), ("status", "succeeded")) >= succeededBefore + 5);
        Assert.True(Sum(after, "floodgate_limiter_acquire_wait_seconds_count", ("limiter", limiter)) >= 5);
        Assert.True(Sum(after, "floodgate_item_latency_seconds_count", ("processor", "echo")) >= 5);
        Assert.True(Sum(after, "floodgate_batches_finished_total") >= 1);
        Assert.NotEmpty(Samples(after, "floodgate_limiter_in_use", ("limiter", limiter)));
        Assert.True(Sum(after, "floodgate_limiter_limit", ("limiter", limiter)) > 0);
    }

    [Fact]
    public async Task Scrape_DuringDelayBatch_ShowsPermitInUseForItsLimiter()
    {
        var limiter = ApiSilo.UniqueName("metrics-busy");
        var id = await SubmitAsync(
            $$"""{ "items": [1], "processor": "delay", "processorOptions": {"delayMs": 60000}, "limiter": "{{limiter}}", "localLimit": 1 }""");
        try
        {
            // The one item holds its permit for a minute: the gauge must show it while the batch runs.
            var during = await ScrapeUntilAsync(s => Sum(s, "floodgate_limiter_in_use", ("limiter", limiter)) >= 1);

            Assert.Equal(1, Sum(during, "floodgate_limiter_in_use", ("limiter", limiter)));
            Assert.True(Sum(during, "floodgate_batches_running") >= 1);
        }
        finally
        {
            await silo.SendAsync(HttpMethod.Post, $"/api/batches/{id}/cancel", key: silo.ClientKey);
        }
    }

    [Fact]
    public async Task Scrape_AfterAcquireOnFullLimiter_CountsTimeoutAndShowsLimit()
    {
        var limiter = ApiSilo.UniqueName("metrics-full");
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Put, $"/api/limiters/{limiter}", """{ "maxConcurrency": 1 }""", silo.AdminKey), HttpStatusCode.OK);
        await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", key: silo.ClientKey), HttpStatusCode.Created);

        var refused = await silo.SendAsync(HttpMethod.Post, $"/api/limiters/{limiter}/leases", """{ "waitMs": 0, "holder": "second" }""", silo.ClientKey);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);

        var scrape = await ScrapeUntilAsync(s => Sum(s, "floodgate_limiter_timeouts_total", ("limiter", limiter)) >= 1);
        Assert.Equal(1, Sum(scrape, "floodgate_limiter_timeouts_total", ("limiter", limiter)));
        Assert.Equal(1, Sum(scrape, "floodgate_limiter_grants_total", ("limiter", limiter)));
        Assert.Equal(1, Sum(scrape, "floodgate_limiter_limit", ("limiter", limiter)));
        Assert.Equal(1, Sum(scrape, "floodgate_limiter_in_use", ("limiter", limiter)));
    }

    [Fact]
    public async Task Scrape_AfterActivity_ContainsNoConfiguredKey()
    {
        var limiter = ApiSilo.UniqueName("metrics-secret");
        var id = await SubmitAsync($$"""{ "items": ["a"], "processor": "echo", "limiter": "{{limiter}}" }""");
        await ReadResultsAsync(id);

        var scrape = await ScrapeUntilAsync(s => Sum(s, "floodgate_limiter_grants_total", ("limiter", limiter)) >= 1);

        Assert.Contains("floodgate_", scrape, StringComparison.Ordinal);
        foreach (var key in silo.ConfiguredKeys)
        {
            Assert.DoesNotContain(key, scrape, StringComparison.Ordinal);
        }
    }

    private async Task<string> SubmitAsync(string json)
    {
        var progress = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Post, "/api/batches", json, silo.ClientKey), HttpStatusCode.Created);
        return progress.GetProperty("batchId").GetString()!;
    }

    /// <summary>The results stream ends when every item has its outcome.</summary>
    private async Task ReadResultsAsync(string id)
    {
        using var response = await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results", key: silo.ClientKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await silo.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<string> ScrapeUntilAsync(Func<string, bool> condition)
    {
        var giveUpAt = DateTime.UtcNow + Deadline;
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (condition(scrape) || DateTime.UtcNow > giveUpAt)
            {
                return scrape;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The sum over the samples of <paramref name="metric"/> whose labels include every one of <paramref name="labels"/>.</summary>
    private static double Sum(string scrape, string metric, params (string Name, string Value)[] labels) =>
        Samples(scrape, metric, labels).Sum();

    private static List<double> Samples(string scrape, string metric, params (string Name, string Value)[] labels)
    {
        var values = new List<double>();
        foreach (var line in scrape.Split('\n'))
        {
            var match = SampleLine().Match(line.TrimEnd('\r'));
            if (!match.Success || match.Groups["name"].Value != metric)
            {
                continue;
            }

            var present = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value));
            if (labels.All(l => present.TryGetValue(l.Name, out var v) && v == l.Value))
            {
                values.Add(double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture));
            }
        }

        return values;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})?\s+(?<value>\S+)""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?""")]
    private static partial Regex LabelPair();
}
