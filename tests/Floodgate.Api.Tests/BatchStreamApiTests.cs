using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

/// <summary>NDJSON submissions streamed into a batch, results from any position, the list of batches and retry.</summary>
public sealed class BatchStreamApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    private Task<HttpResponseMessage> PostNdjsonAsync(string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/batches") { Content = new StringContent(body, Encoding.UTF8, "application/x-ndjson") };
        request.Headers.Add("X-Api-Key", silo.ClientKey);
        return silo.Http.SendAsync(request);
    }

    private static string Ndjson(string settings, IEnumerable<string> items) => settings + "\n" + string.Join("\n", items) + "\n";

    private async Task<List<JsonElement>> ReadResultsAsync(string id, string query = "")
    {
        using var response = await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results{query}", key: silo.ClientKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private async Task<JsonElement> WaitFinishedAsync(string id)
    {
        for (var attempt = 0; ; attempt++)
        {
            var progress = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.OK);
            if (progress.GetProperty("state").GetString() is "completed" or "cancelled" || attempt == 300)
            {
                return progress;
            }

            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task SubmitNdjson_SettingsThenOneItemPerLine_RunsEveryItemInOrder()
    {
        var items = Enumerable.Range(0, 2_500).Select(i => i % 2 == 0 ? $$"""{"n":{{i}}}""" : $"\"word {i}\"").ToList();
        items.Insert(100, "   ");
        var limiter = ApiSilo.UniqueName("ndjson");

        var response = await PostNdjsonAsync(Ndjson($$"""{"processor":"echo","limiter":"{{limiter}}","localLimit":32}""", items));

        var submitted = await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
        var id = submitted.GetProperty("batchId").GetString()!;
        Assert.Equal($"/api/batches/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(2_500, (await WaitFinishedAsync(id)).GetProperty("succeeded").GetInt32());
        var outcomes = await ReadResultsAsync(id);
        Assert.Equal(Enumerable.Range(0, 2_500), outcomes.Select(o => o.GetProperty("position").GetInt32()));
        Assert.Equal("word 1233", outcomes[1_233].GetProperty("result").GetString());
        Assert.Equal(2_000, outcomes[2_000].GetProperty("result").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task ReadResults_FromAPosition_StreamsFromThereToTheEnd()
    {
        var id = "b-from-" + Guid.NewGuid().ToString("N")[..10];
        await ApiAssert.JsonAsync(await PostNdjsonAsync(Ndjson($$"""{"batchId":"{{id}}"}""", Enumerable.Range(0, 30).Select(i => i.ToString()))), HttpStatusCode.Created);
        await WaitFinishedAsync(id);

        var tail = await ReadResultsAsync(id, "?from=25");
        var none = await ReadResultsAsync(id, "?from=30");

        Assert.Equal([25, 26, 27, 28, 29], tail.Select(o => o.GetProperty("position").GetInt32()));
        Assert.Empty(none);
    }

    [Theory]
    [InlineData("?from=-1", "Query 'from' must be a whole number")]
    [InlineData("?from=ten", "Query 'from' must be a whole number")]
    [InlineData("?from=2147483648", "Query 'from' must be a whole number of at least 0 and at most 2147483647 (got '2147483648')")]
    [InlineData("?from=31", "Position must be between 0 and 30")]
    public async Task ReadResults_BadPosition_Returns400BeforeStreaming(string query, string mentions)
    {
        var id = "b-badfrom-" + Guid.NewGuid().ToString("N")[..10];
        await ApiAssert.JsonAsync(await PostNdjsonAsync(Ndjson($$"""{"batchId":"{{id}}"}""", Enumerable.Range(0, 30).Select(i => i.ToString()))), HttpStatusCode.Created);

        var response = await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results{query}", key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    [Theory]
    [InlineData("", "NDJSON body is empty")]
    [InlineData("\n  \n", "NDJSON body is empty")]
    [InlineData("""{"batchId":"{id}","items":[1]}""" + "\n2\n", "the first line must not have 'items'")]
    [InlineData("""{"batchId":"{id}","localLimt":3}""" + "\n1\n", "Unknown property 'localLimt'")]
    [InlineData("[1]\n2\n", "must be a JSON object")]
    [InlineData("""{"batchId":"{id}"}""" + "\n", "at least one item")]
    [InlineData("""{"batchId":"{id}","localLimit":0}""" + "\n1\n", "Local limit must be between 1")]
    [InlineData("""{"batchId":"{id}"}""" + "\n1\n2\n{oops\n4\n", "Line 4: not valid JSON")]
    [InlineData("""{"batchId":"{id}"}""" + "\n1\n2 3\n", "Line 3: not valid JSON ('3' is invalid after a single JSON value")]
    public async Task SubmitNdjson_BadBody_Returns400NamingTheLineAndLeavesNoBatch(string body, string mentions)
    {
        var id = "b-badnd-" + Guid.NewGuid().ToString("N")[..10];

        var response = await PostNdjsonAsync(body.Replace("{id}", id));

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.NotFound, id);
    }

    [Fact]
    public async Task SubmitNdjson_BadLineAfterSeveralChunks_Returns400AndDiscardsWhatWasSent()
    {
        var id = "b-late-" + Guid.NewGuid().ToString("N")[..10];
        var items = Enumerable.Range(0, 2_600).Select(i => i.ToString()).Append("nope");

        var response = await PostNdjsonAsync(Ndjson($$"""{"batchId":"{{id}}","processor":"echo"}""", items));

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "Line 2602: not valid JSON");
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.NotFound, id);
    }

    [Fact]
    public async Task ListBatches_PagesNewestFirstWithACursorAndFiltersByState()
    {
        var limiter = ApiSilo.UniqueName("list");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = $"b-list{i}-" + Guid.NewGuid().ToString("N")[..10];
            await ApiAssert.JsonAsync(await PostNdjsonAsync(Ndjson($$"""{"batchId":"{{id}}","limiter":"{{limiter}}"}""", ["1"])), HttpStatusCode.Created);
            await WaitFinishedAsync(id);
            ids.Add(id);
        }

        var seen = new List<JsonElement>();
        string? next = null;
        do
        {
            var page = await ApiAssert.JsonAsync(
                await silo.SendAsync(HttpMethod.Get, "/api/batches?state=completed&limit=2" + (next is null ? string.Empty : "&after=" + Uri.EscapeDataString(next)), key: silo.ClientKey),
                HttpStatusCode.OK);
            Assert.InRange(page.GetProperty("batches").GetArrayLength(), 0, 2);
            seen.AddRange(page.GetProperty("batches").EnumerateArray());
            next = page.GetProperty("next").GetString();
        }
        while (next is not null);

        var mine = seen.Where(b => ids.Contains(b.GetProperty("batchId").GetString()!)).ToList();
        Assert.Equal(Enumerable.Reverse(ids), mine.Select(b => b.GetProperty("batchId").GetString()));
        Assert.All(seen, b => Assert.Equal("completed", b.GetProperty("state").GetString()));
        Assert.All(mine, b => Assert.Equal((1, 1), (b.GetProperty("total").GetInt32(), b.GetProperty("succeeded").GetInt32())));
    }

    [Theory]
    [InlineData("?state=done", "Query 'state' must be one of running, completed, cancelling, cancelled")]
    [InlineData("?limit=0", "Query 'limit' must be a whole number of at least 1")]
    [InlineData("?limit=many", "Query 'limit' must be a whole number")]
    [InlineData("?limit=-3", "Query 'limit' must be a whole number of at least 1 and at most 2147483647 (got '-3')")]
    [InlineData("?limit=99999999999", "Query 'limit' must be a whole number of at least 1 and at most 2147483647 (got '99999999999')")]
    [InlineData("?limit=5&limit=6", "Query 'limit' must be a whole number of at least 1 and at most 2147483647 (got '5,6')")]
    [InlineData("?limit=501", "Limit must be between 1 and 500")]
    [InlineData("?after=somewhere", "is not a cursor")]
    public async Task ListBatches_BadQuery_Returns400(string query, string mentions)
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/api/batches" + query, key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    [Fact]
    public async Task ListBatches_NoKey_Returns401()
    {
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Get, "/api/batches"), HttpStatusCode.Unauthorized, "X-Api-Key");
    }

    [Fact]
    public async Task Retry_FinishedBatchWithFailures_Returns202AndRunsThemAgain()
    {
        var id = "b-retry-" + Guid.NewGuid().ToString("N")[..10];
        var items = new[] { """{"i":0}""", """{"fail":"permanent"}""", """{"i":2}""" };
        await ApiAssert.JsonAsync(await PostNdjsonAsync(Ndjson($$$"""{"batchId":"{{{id}}}","processor":"delay","processorOptions":{"delayMs":1}}""", items)), HttpStatusCode.Created);
        Assert.Equal(1, (await WaitFinishedAsync(id)).GetProperty("failed").GetInt32());

        var retried = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Post, $"/api/batches/{id}/retry", key: silo.ClientKey), HttpStatusCode.Accepted);
        var final = await WaitFinishedAsync(id);

        Assert.Equal(1, retried.GetProperty("retryRounds").GetInt32());
        Assert.Equal("running", retried.GetProperty("state").GetString());
        Assert.Equal((2, 1, 1), (final.GetProperty("succeeded").GetInt32(), final.GetProperty("failed").GetInt32(), final.GetProperty("retryRounds").GetInt32()));
        Assert.Equal([0, 1, 2], (await ReadResultsAsync(id)).Select(o => o.GetProperty("position").GetInt32()));
    }

    [Fact]
    public async Task Retry_UnknownRunningOrCleanBatch_Returns404Or409AndChangesNothing()
    {
        var running = "b-running-" + Guid.NewGuid().ToString("N")[..10];
        var clean = "b-clean-" + Guid.NewGuid().ToString("N")[..10];
        await ApiAssert.JsonAsync(await PostNdjsonAsync(Ndjson($$$"""{"batchId":"{{{running}}}","processor":"delay","processorOptions":{"delayMs":30000}}""", ["1"])), HttpStatusCode.Created);
        await ApiAssert.JsonAsync(await PostNdjsonAsync(Ndjson($$"""{"batchId":"{{clean}}"}""", ["1"])), HttpStatusCode.Created);
        await WaitFinishedAsync(clean);

        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Post, "/api/batches/b-nosuchbatch9/retry", key: silo.ClientKey), HttpStatusCode.NotFound, "b-nosuchbatch9");
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Post, $"/api/batches/{running}/retry", key: silo.ClientKey), HttpStatusCode.Conflict, "still running");
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Post, $"/api/batches/{clean}/retry", key: silo.ClientKey), HttpStatusCode.Conflict, "no failed items");
        await silo.SendAsync(HttpMethod.Delete, $"/api/batches/{running}", key: silo.ClientKey);

        var after = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{clean}", key: silo.ClientKey), HttpStatusCode.OK);
        Assert.Equal(("completed", 0), (after.GetProperty("state").GetString(), after.GetProperty("retryRounds").GetInt32()));
    }
}
