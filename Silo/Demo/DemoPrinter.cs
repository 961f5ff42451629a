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
                console.MarkupLine($"  [grey]#{outcome.Position}[/] {Markup.Escape(Shorten(outcome.Result ?? outcome.Error ?? string.Empty))}");
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

    private static string Shorten(string text) => text.Length <= 110 ? text : text[..110] + "…";
}
