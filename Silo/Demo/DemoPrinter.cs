using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client.Formatting;
using Spectre.Console;

namespace Floodgate.Silo.Demo;

/// <summary>Renders the demo's report.</summary>
internal static class DemoPrinter
{
    public static void Print(IAnsiConsole console, DemoSettings settings, DemoReport report)
    {
        console.WriteLine();
        var limitColour = report.SimulatorMaxConcurrent <= settings.GlobalLimit ? "green" : "red";
        console.MarkupLine($"[bold]Upstream (simulator) saw:[/] max [{limitColour}]{report.SimulatorMaxConcurrent}[/] concurrent calls " +
                           $"(global limit {settings.GlobalLimit}), {report.SimulatorRequests} requests, {report.SimulatorRateLimited} rejected with 429");

        foreach (var batch in report.Batches)
        {
            console.MarkupLine($"[bold]{Markup.Escape(batch.Name)}[/]: {Markup.Escape(ProgressText.Describe(batch.Progress))}, p95 {ProgressText.Format(batch.Progress.P95Latency)}");
            foreach (var outcome in batch.Outcomes.Take(3))
            {
                console.MarkupLine($"  [grey]#{outcome.Position}[/] {Markup.Escape(Shorten(Display(outcome)))}");
            }
        }

        var limiter = report.Limiter;
        console.MarkupLine($"[bold]Limiter {Markup.Escape(limiter.Name)}:[/] limit {limiter.MaxConcurrency} ({limiter.LimitSource}), in use {limiter.InUse}, " +
                           $"high-water {limiter.HighWaterMark}, grants {limiter.Grants}, timeouts {limiter.Timeouts}, expirations {limiter.Expirations}");
        console.MarkupLine($"[bold]Total time:[/] {ProgressText.Format(report.Elapsed)}");
        if (report.Passed)
        {
            console.MarkupLine("[green]All invariants held.[/]");
        }
        else
        {
            foreach (var failure in report.Failures)
            {
                console.MarkupLine($"[red]FAILED:[/] {Markup.Escape(failure)}");
            }
        }
    }

    /// <summary>A chat result shows its content; anything else its JSON or error.</summary>
    private static string Display(ItemOutcome outcome)
    {
        if (outcome.Result is null)
        {
            return outcome.Error ?? string.Empty;
        }

        using var document = JsonDocument.Parse(outcome.Result);
        return document.RootElement.ValueKind == JsonValueKind.Object
               && document.RootElement.TryGetProperty("content", out var content)
               && content.ValueKind == JsonValueKind.String
            ? content.GetString()!
            : outcome.Result;
    }

    private static string Shorten(string text) => text.Length <= 110 ? text : text[..110] + "…";
}
