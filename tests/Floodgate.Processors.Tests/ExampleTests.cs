using System.Diagnostics;
using System.Text.Json;
using Floodgate.Examples.Slides;
using Floodgate.Examples.Vocabulary;
using Floodgate.Processors.Tests.Infrastructure;

namespace Floodgate.Processors.Tests;

/// <summary>The examples in examples/ against a real silo over HTTP and the simulator.</summary>
[Collection(ExampleCollection.Name)]
public sealed class ExampleTests(ExampleSilo silo)
{
    [Fact]
    public async Task Vocabulary_RepeatedWords_WritesOrderedFlashcardsAndCachesRepeats()
    {
        var words = new[] { "serendipity", "ephemeral", "serendipity", "lucid", "ephemeral", "quixotic" }
            .Select(w => $"{w}-{Guid.NewGuid():N}"[..(w.Length + 5)]).ToList();
        words[2] = words[0];
        words[4] = words[1];
        var output = Path.GetTempFileName();
        try
        {
            var before = silo.Simulator.GetStats().TotalRequests;
            var report = await VocabularyPipeline.RunAsync(
                silo.Floodgate, words, output, new VocabularySettings { Limiter = Unique.Name("openrouter") });

            var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(words, lines.Select(l => l.GetProperty("word").GetString()));
            Assert.Equal(Enumerable.Range(0, words.Count), lines.Select(l => l.GetProperty("position").GetInt32()));
            Assert.All(lines, l => Assert.Contains(l.GetProperty("word").GetString()!, l.GetProperty("flashcard").GetString()));
            Assert.Equal(6, report.Succeeded);
            Assert.Equal(2, report.Cached);
            Assert.Equal(4, silo.Simulator.GetStats().TotalRequests - before);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Slides_OneSlideFails_OthersSucceedAtMostThreeAtOnceAndRateIsReported()
    {
        var slides = Enumerable.Range(1, 7).Select(i => new Slide(
            $"p{i}",
            new Dictionary<string, string> { ["{{title}}"] = i == 4 ? "Broken [fail:400]" : $"Title {i}" },
            new Dictionary<string, string> { ["{{chart}}"] = $"https://example.invalid/chart{i}.png" })).ToList();
        silo.Simulator.ResetStats();

        var report = await SlidesPipeline.RunAsync(silo.Floodgate, "deck-1", slides, new SlidesSettings { Limiter = Unique.Name("slides") });

        Assert.Equal(6, report.Text.Succeeded);
        Assert.Equal(["p4"], report.Text.Failures.Keys);
        Assert.StartsWith("Upstream answered 400", report.Text.Failures["p4"]);
        Assert.Equal(7, report.Images.Succeeded);
        Assert.Equal(6.0 / 7, report.SuccessRate, 6);
        Assert.InRange(silo.Simulator.GetStats().MaxConcurrent, 1, 3);
    }

    [SkippableFact]
    public async Task PythonScript_SubmitsOverHttp_PrintsOutcomesInInputOrder()
    {
        Skip.If(FindPython() is null, "python3 is not installed");
        var items = Path.GetTempFileName();
        await File.WriteAllLinesAsync(items, Enumerable.Range(0, 20).Select(i => JsonSerializer.Serialize(new { word = $"w{i}", delayMs = (20 - i) * 5 })));
        try
        {
            var start = new ProcessStartInfo(FindPython()!)
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "python", "submit_batch.py"), "--floodgate", silo.BaseUrl.ToString(), "--api-key", silo.AdminKey, "--processor", "delay", "--local-limit", "8", items },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);

            Assert.True(process.ExitCode == 0, await stderr);
            var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(Enumerable.Range(0, 20), lines.Select(l => l.GetProperty("position").GetInt32()));
            Assert.All(lines, (l, i) => Assert.Equal($"w{i}", l.GetProperty("result").GetProperty("word").GetString()));
        }
        finally
        {
            File.Delete(items);
        }
    }

    [SkippableFact]
    public async Task PythonScript_BadProcessor_ExitsWithTheSilosMessage()
    {
        Skip.If(FindPython() is null, "python3 is not installed");
        var start = new ProcessStartInfo(FindPython()!)
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "python", "submit_batch.py"), "--floodgate", silo.BaseUrl.ToString(), "--api-key", silo.AdminKey, "--processor", "no-such-processor" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteLineAsync("\"x\"");
        process.StandardInput.Close();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Unknown processor 'no-such-processor'", stderr);
    }

    private static string? FindPython() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "python3")).FirstOrDefault(File.Exists);
}
