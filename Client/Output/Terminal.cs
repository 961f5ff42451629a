using System.Text.RegularExpressions;
using Spectre.Console;

namespace Floodgate.Cli.Output;

/// <summary>
/// Where a command writes: stdout for its result (ids, JSON, tables, results), stderr for errors, warnings and progress
/// that must not mix with the result. Spectre output goes through consoles over the same writers, so tests capture it.
/// </summary>
internal sealed partial class Terminal
{
    private readonly Lazy<IAnsiConsole> _outConsole;
    private readonly Lazy<IAnsiConsole> _errorConsole;

    /// <summary>Creates a terminal over the given writers; the flags say whether each is a live terminal (not redirected).</summary>
    public Terminal(TextWriter stdout, TextWriter stderr, bool stdoutIsInteractive = false, bool stderrIsInteractive = false)
    {
        Out = stdout;
        Error = stderr;
        OutIsInteractive = stdoutIsInteractive;
        ErrorIsInteractive = stderrIsInteractive;
        _outConsole = new(() => CreateConsole(stdout, stdoutIsInteractive));
        _errorConsole = new(() => CreateConsole(stderr, stderrIsInteractive));
    }

    /// <summary>Standard input (items for <c>submit -</c>); empty unless the caller gives one.</summary>
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>True when stdout is a terminal a person watches (live progress bars are allowed).</summary>
    public bool OutIsInteractive { get; }

    /// <summary>True when stderr is a terminal a person watches.</summary>
    public bool ErrorIsInteractive { get; }

    /// <summary>A Spectre console over stdout (tables, progress).</summary>
    public IAnsiConsole OutConsole => _outConsole.Value;

    /// <summary>A Spectre console over stderr (progress while stdout carries data).</summary>
    public IAnsiConsole ErrorConsole => _errorConsole.Value;

    /// <summary>Writes the one-line error every failure ends with.</summary>
    public void WriteError(string message) => Error.WriteLine($"error: {OneLine(message)}");

    /// <summary>Writes a one-line warning to stderr.</summary>
    public void WriteWarning(string message) => Error.WriteLine($"warning: {OneLine(message)}");

    private static string OneLine(string message) => Whitespace().Replace(message, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    private static IAnsiConsole CreateConsole(TextWriter writer, bool interactive) =>
        AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
}
