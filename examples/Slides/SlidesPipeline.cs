using System.Text.Json.Nodes;
using Floodgate.Batches;
using Floodgate.Client;

namespace Floodgate.Examples.Slides;

/// <summary>One slide: its placeholder texts and the image URLs that replace shapes holding a token.</summary>
public sealed record Slide(string Id, IReadOnlyDictionary<string, string> Text, IReadOnlyDictionary<string, string> Images);

/// <summary>Seed 004's settings: at most 3 slides at a time, each phase through the configured <c>http</c> endpoint.</summary>
public sealed record SlidesSettings
{
    public string Limiter { get; init; } = "google-slides";

    public int MaxConcurrentSlides { get; init; } = 3;

    /// <summary>The <c>http</c> processor endpoint (silo configuration) that takes a slide's batchUpdate.</summary>
    public string Endpoint { get; init; } = "slides";

    /// <summary>Optional body template overriding the endpoint's (see the http processor).</summary>
    public string? BodyTemplate { get; init; }
}

/// <summary>One phase's outcome: slides done and the slides that failed with why.</summary>
public sealed record PhaseReport(string Phase, int Slides, int Succeeded, IReadOnlyDictionary<string, string> Failures)
{
    public double SuccessRate => Slides == 0 ? 1 : (double)Succeeded / Slides;
}

/// <summary>Both phases, and the rate of slides that went through both.</summary>
public sealed record SlidesReport(PhaseReport Text, PhaseReport Images)
{
    /// <summary>Slides that went through both phases, out of all slides.</summary>
    public double SuccessRate =>
        Text.Slides == 0 ? 1 : (double)(Text.Slides - Text.Failures.Keys.Union(Images.Failures.Keys).Count()) / Text.Slides;
}

/// <summary>
/// Seed 004's slide pipeline on Floodgate: phase 4 (text replacement) then phase 5 (image replacement), each one batch
/// with one item per slide and a local limit of 3, so at most three slides are updated at once; a slide that fails is
/// reported and the others go on (one item's failure never stops its batch).
/// </summary>
public static class SlidesPipeline
{
    public static async Task<SlidesReport> RunAsync(
        IFloodgateOperations floodgate, string presentationId, IReadOnlyList<Slide> slides, SlidesSettings settings, CancellationToken cancellationToken = default)
    {
        var text = await RunPhaseAsync(floodgate, "text", presentationId, slides, settings, TextRequests, cancellationToken);
        var images = await RunPhaseAsync(floodgate, "images", presentationId, slides, settings, ImageRequests, cancellationToken);
        return new SlidesReport(text, images);
    }

    private static async Task<PhaseReport> RunPhaseAsync(
        IFloodgateOperations floodgate, string phase, string presentationId, IReadOnlyList<Slide> slides, SlidesSettings settings,
        Func<Slide, JsonArray> requests, CancellationToken cancellationToken)
    {
        var options = new Dictionary<string, string> { ["endpoint"] = settings.Endpoint };
        if (settings.BodyTemplate is { } body)
        {
            options["body"] = body;
        }

        var items = slides.Select(slide =>
        {
            var slideRequests = requests(slide);
            return new JsonObject
            {
                ["presentationId"] = presentationId,
                ["slideId"] = slide.Id,
                ["requests"] = slideRequests,
                ["summary"] = $"{phase} on slide {slide.Id}: {string.Join("; ", (phase == "text" ? slide.Text : slide.Images).Select(p => $"{p.Key} -> {p.Value}"))}",
            }.ToJsonString();
        }).ToList();

        var handle = await floodgate.SubmitBatchAsync(
            new BatchSpec { Items = items, Processor = "http", ProcessorOptions = options, Limiter = settings.Limiter, LocalLimit = settings.MaxConcurrentSlides },
            cancellationToken: cancellationToken);

        var failures = new Dictionary<string, string>();
        var succeeded = 0;
        await foreach (var outcome in handle.ReadResultsAsync(cancellationToken))
        {
            if (outcome.Status == ItemStatus.Succeeded)
            {
                succeeded++;
            }
            else
            {
                failures[slides[outcome.Position].Id] = outcome.Error ?? outcome.Status.ToString();
            }
        }

        return new PhaseReport(phase, slides.Count, succeeded, failures);
    }

    /// <summary>Slides API <c>replaceAllText</c> requests limited to one slide.</summary>
    private static JsonArray TextRequests(Slide slide) => new(slide.Text.Select(p => (JsonNode)new JsonObject
    {
        ["replaceAllText"] = new JsonObject
        {
            ["containsText"] = new JsonObject { ["text"] = p.Key, ["matchCase"] = true },
            ["replaceText"] = p.Value,
            ["pageObjectIds"] = new JsonArray(slide.Id),
        },
    }).ToArray());

    /// <summary>Slides API <c>replaceAllShapesWithImage</c> requests limited to one slide, with pre-uploaded image URLs.</summary>
    private static JsonArray ImageRequests(Slide slide) => new(slide.Images.Select(p => (JsonNode)new JsonObject
    {
        ["replaceAllShapesWithImage"] = new JsonObject
        {
            ["containsText"] = new JsonObject { ["text"] = p.Key },
            ["imageUrl"] = p.Value,
            ["pageObjectIds"] = new JsonArray(slide.Id),
        },
    }).ToArray());
}
