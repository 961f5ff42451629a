using Floodgate.Batches;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Floodgate.Cli.Output;

/// <summary>
/// Follows a batch until it finishes: a live Spectre progress bar on an interactive terminal, otherwise one plain
/// progress line per update, at most one per <see cref="PlainLineInterval"/> (plus the final one).
/// </summary>
internal sealed class ProgressDisplay
{
    /// <summary>Least time between two plain progress lines.</summary>
    public static readonly TimeSpan PlainLineInterval = TimeSpan.FromSeconds(1);

    private readonly IAnsiConsole _console;
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly Terminal _terminal;
    private readonly TimeProvider _time;

    private ProgressDisplay(IAnsiConsole console, TextWriter writer, bool interactive, Terminal terminal, TimeProvider time)
    {
        _console = console;
        _writer = writer;
        _interactive = interactive;
        _terminal = terminal;
        _time = time;
    }

    /// <summary>Progress on stdout (the <c>watch</c> command, whose output is the progress).</summary>
    public static ProgressDisplay OnStdout(Terminal terminal, TimeProvider time) =>
        new(terminal.OutConsole, terminal.Out, terminal.OutIsInteractive, terminal, time);

    /// <summary>Progress on stderr (<c>submit --watch</c>, whose stdout carries the batch id).</summary>
    public static ProgressDisplay OnStderr(Terminal terminal, TimeProvider time) =>
        new(terminal.ErrorConsole, terminal.Error, terminal.ErrorIsInteractive, terminal, time);

    /// <summary>The writer progress goes to; the final summary follows it there.</summary>
    public TextWriter Writer => _writer;

    /// <summary>Shows progress until the batch finishes; returns the final progress.</summary>
    public Task<BatchProgress> FollowAsync(BatchHandle batch, CancellationToken cancellationToken) =>
        _interactive ? FollowWithBarAsync(batch, cancellationToken) : FollowWithLinesAsync(batch, cancellationToken);

    private async Task<BatchProgress> FollowWithLinesAsync(BatchHandle batch, CancellationToken cancellationToken)
    {
        var warned = new HashSet<string>(StringComparer.Ordinal);
        BatchProgress? last = null;
        DateTimeOffset? printedAt = null;
        await foreach (var progress in batch.WatchAsync(cancellationToken))
        {
            last = progress;
            foreach (var warning in progress.Warnings.Where(warned.Add))
            {
                _terminal.WriteWarning(warning);
            }

            var now = _time.GetUtcNow();
            if (printedAt is null || progress.IsFinished || now - printedAt >= PlainLineInterval)
            {
                await _writer.WriteLineAsync(BatchText.ProgressLine(progress).AsMemory(), cancellationToken);
                await _writer.FlushAsync(cancellationToken);
                printedAt = now;
            }
        }

        return last!;
    }

    private async Task<BatchProgress> FollowWithBarAsync(BatchHandle batch, CancellationToken cancellationToken)
    {
        BatchProgress? last = null;
        await _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .UseRenderHook((bar, _) => Volatile.Read(ref last) is { } progress ? new Rows([bar, .. Lines(progress)]) : bar)
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(batch.Id), autoStart: true, maxValue: 1);
                await foreach (var progress in batch.WatchAsync(cancellationToken))
                {
                    Volatile.Write(ref last, progress);
                    task.MaxValue = Math.Max(1, progress.Total);
                    task.Value = progress.Done;
                    context.Refresh();
                }

                task.StopTask();
            });

        return last!;
    }

    // Warnings are part of the live display: writing them to the same terminal mid-render would tear it.
    private static IEnumerable<IRenderable> Lines(BatchProgress progress) =>
        progress.Warnings
            .Select(warning => (IRenderable)new Text($"warning: {warning}", new Style(Color.Yellow)))
            .Prepend(new Text($"{BatchText.StateName(progress.State)} · {ProgressText.Describe(progress)}"));
}
