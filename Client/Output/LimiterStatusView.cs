using System.Globalization;
using Floodgate.Client.Formatting;
using Floodgate.Limiting;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Floodgate.Cli.Output;

/// <summary>A limiter's status as tables: the counters, then its holders and its waiters.</summary>
internal static class LimiterStatusView
{
    /// <summary>Renders <paramref name="status"/> to <paramref name="console"/>.</summary>
    public static void Write(IAnsiConsole console, LimiterStatus status)
    {
        var counters = new Table { Title = new TableTitle($"limiter {Markup.Escape(status.Name)}") }
            .AddColumn("")
            .AddColumn(new TableColumn("").RightAligned())
            .HideHeaders();
        AddRow(counters, "limit", Number(status.MaxConcurrency));
        AddRow(counters, "source", status.LimitSource.ToString().ToLowerInvariant());
        AddRow(counters, "in use", Number(status.InUse));
        AddRow(counters, "available", Number(status.Available));
        AddRow(counters, "waiting", Number(status.Waiting));
        AddRow(counters, "high-water", Number(status.HighWaterMark));
        AddRow(counters, "grants", Number(status.Grants));
        AddRow(counters, "timeouts", Number(status.Timeouts));
        AddRow(counters, "expirations", Number(status.Expirations));
        if (status.RequestsPerMinute is { } rpm)
        {
            AddRow(counters, "requests/min", string.Create(CultureInfo.InvariantCulture, $"{rpm} × {status.RateSafetyFactor:0.##}"));
            AddRow(counters, "rate budget", Number(status.RateBudget ?? 0));
            AddRow(counters, "rate left", Number(status.RateAvailable ?? 0));
        }

        AddRow(counters, "restored", Number(status.Restored));
        AddRow(counters, "epoch", Number(status.Epoch));
        console.Write(counters);

        if (status.Holders.Count == 0)
        {
            console.WriteLine("no holders");
        }
        else
        {
            var holders = new Table { Title = new TableTitle("holders") }
                .AddColumn("holder")
                .AddColumn(new TableColumn("permits").RightAligned())
                .AddColumn(new TableColumn("leases").RightAligned())
                .AddColumn(new TableColumn("oldest lease").RightAligned());
            foreach (var holder in status.Holders)
            {
                AddRow(holders, holder.Holder, Number(holder.Permits), Number(holder.Leases), ProgressText.Format(holder.OldestLeaseAge));
            }

            console.Write(holders);
        }

        if (status.Waiters.Count == 0)
        {
            console.WriteLine("no waiters");
        }
        else
        {
            var waiters = new Table { Title = new TableTitle("waiters") }
                .AddColumn(new TableColumn("position").RightAligned())
                .AddColumn("holder")
                .AddColumn(new TableColumn("weight").RightAligned());
            foreach (var waiter in status.Waiters)
            {
                AddRow(waiters, Number(waiter.Position), waiter.Holder, Number(waiter.Weight));
            }

            console.Write(waiters);
        }
    }

    // Text, not markup: names are user-chosen and must print as they are.
    private static void AddRow(Table table, params string[] cells) =>
        table.AddRow(cells.Select(cell => (IRenderable)new Text(cell)).ToArray());

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
