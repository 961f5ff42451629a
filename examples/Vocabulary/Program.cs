using Floodgate.Client.Http;
using Floodgate.Examples.Vocabulary;

// floodgate-example-vocabulary --floodgate http://127.0.0.1:5000 --words words.txt --out flashcards.jsonl [--api-key KEY]
var arguments = args.Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
if (!arguments.TryGetValue("--words", out var wordsPath) || !arguments.TryGetValue("--out", out var outputPath))
{
    Console.Error.WriteLine("usage: floodgate-example-vocabulary --words FILE --out FILE [--floodgate URL] [--api-key KEY]");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(arguments.GetValueOrDefault("--floodgate", "http://127.0.0.1:5000")) };
if (arguments.TryGetValue("--api-key", out var key))
{
    http.DefaultRequestHeaders.Add("X-Api-Key", key);
}

var words = File.ReadAllLines(wordsPath).Select(w => w.Trim()).Where(w => w.Length > 0).ToList();
var report = await VocabularyPipeline.RunAsync(new FloodgateHttpClient(http), words, outputPath, new VocabularySettings());
Console.WriteLine($"{report.Succeeded}/{report.Total} flashcards ({report.Cached} from the cache, {report.Failed} failed) written to {report.OutputPath}");
return report.Failed == 0 ? 0 : 1;
