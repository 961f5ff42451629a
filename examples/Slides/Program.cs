using System.Text.Json;
using Floodgate.Client.Http;
using Floodgate.Examples.Slides;

// floodgate-example-slides --presentation ID --slides slides.json [--floodgate URL] [--api-key KEY]
// slides.json: [{"id":"p1","text":{"{{title}}":"Q3"},"images":{"{{chart}}":"https://…/chart.png"}}, …]
var arguments = args.Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
if (!arguments.TryGetValue("--presentation", out var presentation) || !arguments.TryGetValue("--slides", out var slidesPath))
{
    Console.Error.WriteLine("usage: floodgate-example-slides --presentation ID --slides FILE [--floodgate URL] [--api-key KEY]");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(arguments.GetValueOrDefault("--floodgate", "http://127.0.0.1:5000")) };
if (arguments.TryGetValue("--api-key", out var key))
{
    http.DefaultRequestHeaders.Add("X-Api-Key", key);
}

var slides = JsonSerializer.Deserialize<List<Slide>>(File.ReadAllText(slidesPath), JsonSerializerOptions.Web) ?? [];
var report = await SlidesPipeline.RunAsync(new FloodgateHttpClient(http), presentation, slides, new SlidesSettings());
foreach (var phase in new[] { report.Text, report.Images })
{
    Console.WriteLine($"{phase.Phase}: {phase.Succeeded}/{phase.Slides} slides ({phase.SuccessRate:P0})");
    foreach (var (slide, error) in phase.Failures)
    {
        Console.WriteLine($"  slide {slide} failed: {error}");
    }
}

Console.WriteLine($"success rate: {report.SuccessRate:P0}");
return report.SuccessRate == 1 ? 0 : 1;
