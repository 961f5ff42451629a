using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Api.Tests.Infrastructure;

namespace Floodgate.Api.Tests;

public sealed class BatchApiTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task Submit_ValidBatch_Returns201WithLocationAndProgress()
    {
        var limiter = ApiSilo.UniqueName("batch");

        var response = await silo.SendAsync(HttpMethod.Post, "/api/batches",
            $$"""{ "items": ["alpha", {"n": 2}, 3], "processor": "echo", "limiter": "{{limiter}}", "localLimit": 2 }""", silo.ClientKey);

        var progress = await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
        var id = progress.GetProperty("batchId").GetString()!;
        Assert.Equal($"/api/batches/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(3, progress.GetProperty("total").GetInt32());
        Assert.Equal(2, progress.GetProperty("localLimit").GetInt32());
        Assert.Equal(limiter, progress.GetProperty("limiter").GetString());
        Assert.Contains(progress.GetProperty("state").GetString(), new[] { "running", "completed" });

        var again = await ApiAssert.JsonAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.OK);
        Assert.Equal(id, again.GetProperty("batchId").GetString());
    }

    [Fact]
    public async Task ReadResults_DelayItems_StreamsOneLinePerItemInInputOrder()
    {
        // Later items finish first (shorter delays), so input order is the batch's work, not the processor's.
        var items = Enumerable.Range(0, 20).Select(i => $$"""{"i": {{i}}, "delayMs": {{(20 - i) * 3 % 47}}}""");
        var submitted = await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Post, "/api/batches",
                $$"""{ "items": [{{string.Join(",", items)}}], "processor": "delay", "limiter": "{{ApiSilo.UniqueName("results")}}", "localLimit": 5 }""",
                silo.ClientKey),
            HttpStatusCode.Created);
        var id = submitted.GetProperty("batchId").GetString();

        using var response = await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results", key: silo.ClientKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var outcome = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(i, outcome.GetProperty("position").GetInt32());
            Assert.Equal("succeeded", outcome.GetProperty("status").GetString());
            Assert.Equal(i, outcome.GetProperty("result").GetProperty("i").GetInt32());
        }
    }

    [Fact]
    public async Task GetBatch_UnknownId_Returns404Problem()
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/api/batches/b-doesnotexist42", key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound, "b-doesnotexist42");
    }

    [Fact]
    public async Task ReadResults_UnknownId_Returns404ProblemBeforeStreaming()
    {
        var response = await silo.SendAsync(HttpMethod.Get, "/api/batches/b-nosuchbatch7/results", key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound, "b-nosuchbatch7");
    }

    [Fact]
    public async Task Cancel_RunningBatch_Returns202WithCancelledProgress()
    {
        var submitted = await ApiAssert.JsonAsync(
            await silo.SendAsync(HttpMethod.Post, "/api/batches",
                $$"""{ "items": [1,2,3,4,5,6], "processor": "delay", "processorOptions": {"delayMs": 20000}, "limiter": "{{ApiSilo.UniqueName("cancel")}}", "localLimit": 1 }""",
                silo.ClientKey),
            HttpStatusCode.Created);
        var id = submitted.GetProperty("batchId").GetString();

        var response = await silo.SendAsync(HttpMethod.Delete, $"/api/batches/{id}", key: silo.ClientKey);

        var progress = await ApiAssert.JsonAsync(response, HttpStatusCode.Accepted);
        Assert.Contains(progress.GetProperty("state").GetString(), new[] { "cancelling", "cancelled" });
        Assert.True(progress.GetProperty("cancelled").GetInt32() >= 5);
    }

    [Fact]
    public async Task Cancel_UnknownId_Returns404Problem()
    {
        var response = await silo.SendAsync(HttpMethod.Delete, "/api/batches/b-neverexisted", key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound, "b-neverexisted");
    }

    [Theory]
    [InlineData("""{ "items": [], "batchId": "{id}" }""", "at least one item")]
    [InlineData("""{ "items": [1], "localLimit": 0, "batchId": "{id}" }""", "Local limit must be between 1")]
    [InlineData("""{ "items": [1], "processor": "no-such-processor", "batchId": "{id}" }""", "Unknown processor 'no-such-processor'")]
    [InlineData("""{ "items": [1], "localLimt": 3, "batchId": "{id}" }""", "Unknown property 'localLimt'")]
    [InlineData("""{ "items": [1], "batchId": "{id}" """, "not valid JSON")]
    [InlineData("""{ "items": [1 2], "batchId": "{id}" }""", "not valid JSON (line 1")]
    [InlineData("""{ "items": [1], "localLimit": "five", "batchId": "{id}" }""", "Property 'localLimit' must be a whole number")]
    [InlineData("""{ "items": [1], "priority": "urgent", "batchId": "{id}" }""", "one of low, normal, high")]
    [InlineData("""{ "items": [1], "processorOptions": { "delayMs": { "ms": 5 } }, "batchId": "{id}" }""", "Processor option 'delayMs' must be a string, number or boolean")]
    [InlineData("""{ "items": [1], "processor": "delay", "processorOptions": { "delayMs": -5 }, "batchId": "{id}" }""", "delayMs")]
    [InlineData("""{ "items": [1], "limiter": "bad limiter!", "batchId": "{id}" }""", "Limiter name")]
    [InlineData("""[1, 2, 3]""", "must be a JSON object")]
    [InlineData("", "needs a JSON object")]
    public async Task Submit_InvalidBody_Returns400NamingTheProblemAndCreatesNothing(string body, string mentions)
    {
        var id = "b-invalid-" + Guid.NewGuid().ToString("N")[..10];

        var response = await silo.SendAsync(HttpMethod.Post, "/api/batches", body.Replace("{id}", id), silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, mentions);
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.NotFound, id);
    }

    [Fact]
    public async Task Submit_SeveralProblems_Returns400ListingEveryOne()
    {
        var response = await silo.SendAsync(HttpMethod.Post, "/api/batches", """{ "items": [], "localLimit": 0, "globalLimit": -1 }""", silo.ClientKey);

        var errors = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "at least one item");
        Assert.Contains(errors, e => e.Contains("Local limit", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Global limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Submit_NonJsonContentType_Returns415Problem()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/batches")
        {
            Content = new StringContent("items=1", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add("X-Api-Key", silo.ClientKey);

        var response = await silo.Http.SendAsync(request);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Theory]
    [InlineData("/api/batches/bad$id")]
    [InlineData("/api/batches/bad$id/results")]
    public async Task GetBatch_BadIdInRoute_Returns400(string path)
    {
        var response = await silo.SendAsync(HttpMethod.Get, path, key: silo.ClientKey);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "Batch id");
    }

    [Fact]
    public async Task Submit_NoKey_Returns401AndCreatesNothing()
    {
        var id = "b-nokey-" + Guid.NewGuid().ToString("N")[..10];

        var response = await silo.SendAsync(HttpMethod.Post, "/api/batches", $$"""{ "items": [1], "batchId": "{{id}}" }""");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "X-Api-Key");
        await ApiAssert.ProblemAsync(await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}", key: silo.ClientKey), HttpStatusCode.NotFound, id);
    }
}
