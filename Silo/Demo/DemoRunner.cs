using System.Diagnostics;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Silo.Hosting;
using Floodgate.Simulator;
using Spectre.Console;

namespace Floodgate.Silo.Demo;

/// <summary>
/// <c>dotnet run --project Silo -- demo</c>: starts the upstream simulator and an embedded silo, runs seed 000's three
/// batches of vocabulary items through the <c>openai-chat</c> processor, and checks from the simulator's side that the
/// account limit held and was used.
/// </summary>
public static class DemoRunner
{
    public static async Task<int> RunFromCommandLineAsync(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        try
        {
            var report = await RunAsync(new DemoSettings(), AnsiConsole.Console, cancellation.Token);
            return report.Passed ? 0 : 1;
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]Demo cancelled.[/]");
            return 130;
        }
    }

    public static async Task<DemoReport> RunAsync(DemoSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var apiKey = "sk-demo-" + Guid.NewGuid().ToString("N");
        await using var simulator = await SimulatorServer.StartAsync(
            new SimulatorOptions { MaxConcurrency = settings.GlobalLimit, LatencyMs = settings.LatencyMs, LatencyJitterMs = settings.LatencyMs / 4, ApiKey = apiKey },
            cancellationToken: cancellationToken);

        var app = FloodgateSiloHost.Build([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
            ["Floodgate:Silo:SiloPort"] = FreeTcpPort.Next().ToString(),
            ["Floodgate:Silo:GatewayPort"] = FreeTcpPort.Next().ToString(),
            ["Floodgate:Silo:ClusterId"] = "floodgate-demo",
            ["Floodgate:Silo:Dashboard"] = "false",

            // The demo starts its batches at once; a warm-up would only compete with them for the CPU.
            ["Floodgate:Silo:WarmUp:Enabled"] = "false",
            ["Floodgate:Processors:OpenAiChat:BaseUrl"] = simulator.BaseUrl.ToString(),
            ["Floodgate:Processors:OpenAiChat:ApiKey"] = apiKey,
        });
        await using var _ = app;
        console.MarkupLine($"[bold]Floodgate demo[/] — upstream simulator at {simulator.BaseUrl} (account limit {settings.GlobalLimit}, ~{settings.LatencyMs} ms per call)");
        await app.StartAsync(cancellationToken);

        var client = app.Services.GetRequiredService<IFloodgateClient>();
        var words = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Demo", "words.txt"), cancellationToken);
        var stopwatch = Stopwatch.StartNew();
        var handles = new List<(string Name, BatchHandle Handle)>();
        for (var i = 0; i < settings.LocalLimits.Count; i++)
        {
            var items = words.Skip(i * settings.ItemsPerBatch).Take(settings.ItemsPerBatch).Select(w => JsonSerializer.Serialize(w)).ToList();
            var spec = new BatchSpec
            {
                Items = items,
                Processor = "openai-chat",
                ProcessorOptions = new Dictionary<string, string> { ["template"] = "Define the word '{item}' in one sentence." },
                Limiter = settings.Limiter,
                GlobalLimit = settings.GlobalLimit,
                LocalLimit = settings.LocalLimits[i],
            };
            var name = $"batch {(char)('A' + i)} (local {settings.LocalLimits[i]})";
            handles.Add((name, await client.SubmitBatchAsync(spec, cancellationToken: cancellationToken)));
        }

        var finals = await WatchAllAsync(handles, settings.ShowProgress, console, cancellationToken);
        stopwatch.Stop();

        var batches = new List<DemoBatch>();
        foreach (var (name, handle) in handles)
        {
            var outcomes = new List<ItemOutcome>();
            await foreach (var outcome in handle.ReadResultsAsync(cancellationToken))
            {
                outcomes.Add(outcome);
            }

            batches.Add(new DemoBatch(name, finals[handle.Id], outcomes));
        }

        var stats = simulator.GetStats();
        var limiter = await client.GetLimiterStatusAsync(settings.Limiter, cancellationToken);
        var report = new DemoReport(stats.MaxConcurrent, stats.TotalRequests, stats.RateLimited, batches, limiter, stopwatch.Elapsed,
            CheckInvariants(settings, stats, batches, limiter, apiKey));
        DemoPrinter.Print(console, settings, report);
        await app.StopAsync(CancellationToken.None);
        return report;
    }

    private static async Task<Dictionary<string, BatchProgress>> WatchAllAsync(
        List<(string Name, BatchHandle Handle)> handles, bool showProgress, IAnsiConsole console, CancellationToken cancellationToken)
    {
        if (!showProgress)
        {
            var done = await Task.WhenAll(handles.Select(h => h.Handle.WaitForCompletionAsync(cancellationToken)));
            return done.ToDictionary(p => p.BatchId);
        }

        var finals = new Dictionary<string, BatchProgress>();
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                await Task.WhenAll(handles.Select(async h =>
                {
                    var task = ctx.AddTask(h.Name, maxValue: h.Handle.Submitted?.Total ?? 1);
                    await foreach (var progress in h.Handle.WatchAsync(cancellationToken))
                    {
                        task.Value = progress.Done;
                        task.Description = $"{h.Name} · {progress.InFlight} in flight";
                        finals[h.Handle.Id] = progress;
                    }

                    task.Description = $"{h.Name} · {ProgressText.Describe(finals[h.Handle.Id])}";
                    task.StopTask();
                }));
            });
        return finals;
    }

    private static List<string> CheckInvariants(
        DemoSettings settings, SimulatorStats stats, IReadOnlyList<DemoBatch> batches, Limiting.LimiterStatus limiter, string apiKey)
    {
        var failures = new List<string>();
        if (stats.MaxConcurrent > settings.GlobalLimit)
        {
            failures.Add($"The simulator saw {stats.MaxConcurrent} concurrent calls, above the global limit {settings.GlobalLimit}.");
        }

        if (stats.MaxConcurrent < settings.GlobalLimit - 1)
        {
            failures.Add($"The simulator saw at most {stats.MaxConcurrent} concurrent calls: the global limit {settings.GlobalLimit} was not used.");
        }

        if (stats.RateLimited > 0)
        {
            failures.Add($"The simulator rejected {stats.RateLimited} call(s) with 429.");
        }

        foreach (var batch in batches)
        {
            if (batch.Progress.Succeeded != batch.Progress.Total)
            {
                failures.Add($"{batch.Name}: {batch.Progress.Succeeded}/{batch.Progress.Total} items succeeded.");
            }

            if (!batch.Outcomes.Select(o => o.Position).SequenceEqual(Enumerable.Range(0, batch.Progress.Total)))
            {
                failures.Add($"{batch.Name}: results were not returned in input order.");
            }

            var visible = JsonSerializer.Serialize(batch.Outcomes) + JsonSerializer.Serialize(batch.Progress);
            if (visible.Contains(apiKey, StringComparison.Ordinal))
            {
                failures.Add($"{batch.Name}: the upstream API key appeared in results or progress.");
            }
        }

        if (limiter.InUse != 0)
        {
            failures.Add($"The limiter still holds {limiter.InUse} permit(s) after all batches finished.");
        }

        if (JsonSerializer.Serialize(limiter).Contains(apiKey, StringComparison.Ordinal))
        {
            failures.Add("The upstream API key appeared in the limiter status.");
        }

        return failures;
    }
}
