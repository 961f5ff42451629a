using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Processors.Tests.Infrastructure;
using Floodgate.Validation;

namespace Floodgate.Processors.Tests;

/// <summary>Each processor end to end against the simulator, through a two-silo cluster.</summary>
[Collection(ProcessorCollection.Name)]
public sealed class ProcessorTests(ProcessorCluster fixture)
{
    [Fact]
    public async Task OpenAiChat_ObjectItemsWithTemplateFields_FillsPromptAndRetriesUnderOneIdempotencyKey()
    {
        // [fail-first:1:500] fails the first call per Idempotency-Key: success on attempt 2 proves the key was sent and stable.
        var outcomes = await RunAsync(new BatchSpec
        {
            Items = [Json(new { word = "apple", lang = "en" }), Json(new { word = "Birne [fail-first:1:500]", lang = "de" })],
            Processor = "openai-chat",
            ProcessorOptions = new Dictionary<string, string> { ["template"] = "Define {word} in {lang}" },
            Limiter = Unique.Name("chat"),
        });

        Assert.All(outcomes, o => Assert.Equal(ItemStatus.Succeeded, o.Status));
        Assert.Contains("Define apple in en", Content(outcomes[0]));
        Assert.Equal(1, outcomes[0].Attempts);
        Assert.Equal(2, outcomes[1].Attempts);
        using var result = JsonDocument.Parse(outcomes[0].Result!);
        Assert.True(result.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task OpenAiChat_RateLimitedThenOk_RetriesTransient429()
    {
        var outcomes = await RunAsync(new BatchSpec
        {
            Items = [Json("throttled [fail-first:1:429]")],
            Processor = "openai-chat",
            Limiter = Unique.Name("chat429"),
        });

        Assert.Equal(ItemStatus.Succeeded, outcomes[0].Status);
        Assert.Equal(2, outcomes[0].Attempts);
    }

    [Fact]
    public async Task OpenAiChat_PermanentUpstreamError_FailsWithoutRetryAndWithoutBody()
    {
        var outcomes = await RunAsync(new BatchSpec { Items = [Json("bad [fail:400]")], Processor = "openai-chat", Limiter = Unique.Name("chat400") });

        Assert.Equal(ItemStatus.Failed, outcomes[0].Status);
        Assert.Equal(1, outcomes[0].Attempts);
        Assert.StartsWith("Upstream answered 400", outcomes[0].Error);
    }

    [Fact]
    public async Task Submit_TemplateFieldMissingFromAnItem_IsRejectedBeforeAnyUpstreamCall()
    {
        var before = fixture.Simulator.GetStats().TotalRequests;
        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = [Json(new { word = "apple" }), Json(new { term = "pear" }), Json("plain")],
            Processor = "openai-chat",
            ProcessorOptions = new Dictionary<string, string> { ["template"] = "Define {word}" },
            Limiter = Unique.Name("missing"),
        }));

        Assert.Contains(error.Errors, e => e.StartsWith("Item 1:") && e.Contains("{word}"));
        Assert.Contains(error.Errors, e => e.StartsWith("Item 2:") && e.Contains("not a JSON object"));
        Assert.DoesNotContain(error.Errors, e => e.StartsWith("Item 0:"));
        Assert.Equal(before, fixture.Simulator.GetStats().TotalRequests);
    }

    [Fact]
    public async Task OpenAiEmbeddings_SameTextTwice_ReturnsEqualVectors()
    {
        var outcomes = await RunAsync(new BatchSpec
        {
            Items = [Json(new { text = "river bank" }), Json(new { text = "river bank" }), Json(new { text = "money bank" })],
            Processor = "openai-embeddings",
            ProcessorOptions = new Dictionary<string, string> { ["template"] = "{text}" },
            Limiter = Unique.Name("embed"),
        });

        var vectors = outcomes.Select(o => JsonDocument.Parse(o.Result!).RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.True(vectors[0].Length > 0);
        Assert.Equal(vectors[0], vectors[1]);
        Assert.NotEqual(vectors[0], vectors[2]);
    }

    [Fact]
    public async Task Http_BodyTemplateAndResultField_SendsTypedFieldsAndSelects()
    {
        var outcomes = await RunAsync(new BatchSpec
        {
            Items = [Json(new { word = "ocean", maxTokens = 50 }), Json(new { word = "tide [fail-first:1:503]", maxTokens = 50 })],
            Processor = "http",
            ProcessorOptions = new Dictionary<string, string> { ["endpoint"] = "define" },
            Limiter = Unique.Name("http"),
        });

        Assert.All(outcomes, o => Assert.Equal(ItemStatus.Succeeded, o.Status));
        Assert.Equal("\"Simulated answer to: Define ocean\"", outcomes[0].Result);
        Assert.Equal(2, outcomes[1].Attempts);
    }

    [Fact]
    public async Task Http_UnknownEndpointOrMissingEndpointChoice_IsRejectedAtSubmit()
    {
        var unknown = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = [Json(new { word = "a", maxTokens = 1 })], Processor = "http", ProcessorOptions = new Dictionary<string, string> { ["endpoint"] = "nope" },
        }));
        var unnamed = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = [Json(new { word = "a", maxTokens = 1 })], Processor = "http",
        }));

        Assert.Contains(unknown.Errors, e => e.Contains("no endpoint 'nope'"));
        Assert.Contains(unnamed.Errors, e => e.Contains("endpoint is required"));
    }

    [Fact]
    public async Task Replicate_CreatesAndPollsPredictions_OneFailedPredictionIsIsolated()
    {
        var before = fixture.Simulator.GetStats().TotalRequests;
        var outcomes = await RunAsync(new BatchSpec
        {
            Items = [Json("a lighthouse at dusk"), Json("broken [prediction-fail]"), Json(new { prompt = "a red fox" })],
            Processor = "replicate",
            Limiter = Unique.Name("replicate"),
            LocalLimit = 3,
        });

        Assert.Equal(ItemStatus.Succeeded, outcomes[0].Status);
        using (var result = JsonDocument.Parse(outcomes[0].Result!))
        {
            Assert.Equal("Simulated output for: a lighthouse at dusk", result.RootElement.GetProperty("output").GetString());
            Assert.Equal("succeeded", result.RootElement.GetProperty("status").GetString());
        }

        Assert.Equal(ItemStatus.Failed, outcomes[1].Status);
        Assert.Matches("^Prediction pred-sim-[0-9]+ failed upstream\\.$", outcomes[1].Error);
        Assert.Equal(ItemStatus.Succeeded, outcomes[2].Status);

        // One create per item: polls are not predictions.
        Assert.Equal(before + 3, fixture.Simulator.GetStats().TotalRequests);
    }

    [Fact]
    public async Task Replicate_ModelAndVersionTogether_IsRejectedAtSubmit()
    {
        var error = await Assert.ThrowsAsync<FloodgateValidationException>(() => fixture.Client.SubmitBatchAsync(new BatchSpec
        {
            Items = [Json("x")], Processor = "replicate",
            ProcessorOptions = new Dictionary<string, string> { ["model"] = "a/b", ["version"] = "abc123" },
        }));

        Assert.Contains(error.Errors, e => e.Contains("exclude each other"));
    }

    [Fact]
    public async Task UpstreamKeys_AfterEveryProcessorSucceedsAndFails_AppearInNoOutcomeProgressErrorOrLog()
    {
        var seen = new List<string>();
        foreach (var (processor, options, items) in new (string, Dictionary<string, string>, string[])[]
        {
            ("openai-chat", new(), [Json("fine"), Json("denied [fail:401]"), Json("broken [fail:500]")]),
            ("openai-embeddings", new(), [Json("fine"), Json("denied [fail:401]")]),
            ("http", new() { ["endpoint"] = "define" }, [Json(new { word = "fine", maxTokens = 5 }), Json(new { word = "x [fail:403]", maxTokens = 5 })]),
            ("replicate", new(), [Json("fine"), Json("denied [fail:401]")]),
        })
        {
            var limiter = Unique.Name("secret");
            var handle = await fixture.Client.SubmitBatchAsync(new BatchSpec { Items = items, Processor = processor, ProcessorOptions = options, Limiter = limiter });
            var final = await handle.WaitForCompletionAsync();
            var outcomes = new List<ItemOutcome>();
            await foreach (var outcome in handle.ReadResultsAsync())
            {
                outcomes.Add(outcome);
            }

            // The key did reach the upstream (it answers 401 without it) and the failures did happen.
            Assert.Equal(ItemStatus.Succeeded, outcomes[0].Status);
            Assert.True(final.Failed >= 1, processor);
            seen.Add(JsonSerializer.Serialize(outcomes));
            seen.Add(JsonSerializer.Serialize(final));
            seen.Add(JsonSerializer.Serialize(await fixture.Client.GetLimiterStatusAsync(limiter)));
        }

        var visible = string.Join("\n", seen.Concat(fixture.Logs.Lines));
        Assert.DoesNotContain(UpstreamSettings.ApiKey, visible);
        Assert.DoesNotContain(UpstreamSettings.ApiKey[^12..], visible);
    }

    private async Task<List<ItemOutcome>> RunAsync(BatchSpec spec)
    {
        var handle = await fixture.Client.SubmitBatchAsync(spec);
        var outcomes = new List<ItemOutcome>();
        await foreach (var outcome in handle.ReadResultsAsync())
        {
            outcomes.Add(outcome);
        }

        Assert.Equal(Enumerable.Range(0, spec.Items.Count), outcomes.Select(o => o.Position));
        return outcomes;
    }

    internal static string Json(object value) => JsonSerializer.Serialize(value);

    private static string Content(ItemOutcome outcome) =>
        JsonDocument.Parse(outcome.Result!).RootElement.GetProperty("content").GetString()!;
}
