using System.Text.Json;
using System.Text.Json.Nodes;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Limiting;

namespace Floodgate.Examples.Vocabulary;

/// <summary>Seed 003's settings: 50 concurrent, 600 requests/minute used at 80 %, the cache on.</summary>
public sealed record VocabularySettings
{
    public string Limiter { get; init; } = "openrouter";

    public int MaxConcurrent { get; init; } = 50;

    public int RequestsPerMinute { get; init; } = 600;

    public double RateSafetyFactor { get; init; } = 0.8;

    public string Template { get; init; } = "Write a flashcard for the word '{word}': a one-line definition and one example sentence.";

    public string? Model { get; init; }

    public bool Cache { get; init; } = true;
}

/// <summary>What a run did.</summary>
public sealed record VocabularyReport(string BatchId, int Total, int Succeeded, int Failed, int Cached, string OutputPath);

/// <summary>
/// Seed 003's vocabulary pipeline on Floodgate: every word becomes a flashcard through the <c>openai-chat</c> processor,
/// up to 50 at a time under the account limiter (600 rpm × 0.8), the shared breaker and the shared cache; the flashcards
/// are written to a JSON-lines file in input order as soon as each prefix is complete.
/// </summary>
public static class VocabularyPipeline
{
    public static async Task<VocabularyReport> RunAsync(
        IFloodgateOperations floodgate, IReadOnlyList<string> words, string outputPath, VocabularySettings settings, CancellationToken cancellationToken = default)
    {
        await floodgate.SetLimitsAsync(
            settings.Limiter,
            new LimiterLimits(settings.MaxConcurrent, settings.RequestsPerMinute, settings.RateSafetyFactor),
            cancellationToken);

        var options = new Dictionary<string, string> { ["template"] = settings.Template, ["cache"] = settings.Cache ? "true" : "false" };
        if (settings.Model is { } model)
        {
            options["model"] = model;
        }

        var handle = await floodgate.SubmitBatchAsync(
            new BatchSpec
            {
                Items = words.Select(w => new JsonObject { ["word"] = w }.ToJsonString()).ToList(),
                Processor = "openai-chat",
                ProcessorOptions = options,
                Limiter = settings.Limiter,
                LocalLimit = settings.MaxConcurrent,
            },
            cancellationToken: cancellationToken);

        int succeeded = 0, failed = 0, cached = 0;
        await using (var output = new StreamWriter(outputPath))
        {
            await foreach (var outcome in handle.ReadResultsAsync(cancellationToken))
            {
                var line = new JsonObject
                {
                    ["position"] = outcome.Position,
                    ["word"] = words[outcome.Position],
                    ["status"] = outcome.Status.ToString().ToLowerInvariant(),
                    ["flashcard"] = outcome.Result is { } result ? JsonNode.Parse(result)?["content"]?.GetValue<string>() : null,
                    ["cached"] = outcome.Cached,
                    ["error"] = outcome.Error,
                };
                await output.WriteLineAsync(line.ToJsonString());
                await output.FlushAsync(cancellationToken);
                succeeded += outcome.Status == ItemStatus.Succeeded ? 1 : 0;
                failed += outcome.Status == ItemStatus.Failed ? 1 : 0;
                cached += outcome.Cached ? 1 : 0;
            }
        }

        return new VocabularyReport(handle.Id, words.Count, succeeded, failed, cached, outputPath);
    }
}
