using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Floodgate.ProcessCluster.Processes;

/// <summary>
/// A program started by the harness: stdout and stderr go line by line (time-stamped) to a log file, and it can be
/// killed for real — <see cref="Kill9"/> sends SIGKILL, <see cref="TerminateAsync"/> SIGTERM. Every child is also killed
/// when the harness process exits, so a failed or aborted test leaves nothing running.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private static readonly ConcurrentDictionary<int, Process> Running = new();
    private static readonly List<PosixSignalRegistration> SignalRegistrations = [];

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();
    private readonly List<Action<string>> _lineWatchers = [];
    private bool _logClosed;

    static ChildProcess()
    {
        // Last resort when the harness process ends without disposing (a test host exiting, a runner's SIGTERM, Ctrl+C):
        // SIGKILL whatever is still running. The signal's default action (exit) follows.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP })
        {
            SignalRegistrations.Add(PosixSignalRegistration.Create(signal, _ => KillAll()));
        }
    }

    private ChildProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    /// <summary>Name in logs and messages, e.g. <c>silo-2</c>.</summary>
    public string Name { get; }

    /// <summary>The file holding this process's stdout and stderr.</summary>
    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>When the harness saw the process exit (<see cref="Timeline"/> time), or null while it runs.</summary>
    public TimeSpan? ExitedAt { get; private set; }

    /// <summary>The exit code, once the process has exited.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>
    /// Lines the process logged at error or critical level (console logger's <c>fail:</c> / <c>crit:</c>) at or after
    /// <paramref name="since"/> (<see cref="Timeline"/> time, read from each line's <c>t=</c> stamp).
    /// </summary>
    public IReadOnlyList<string> ErrorLines(TimeSpan since)
    {
        lock (_logLock)
        {
            if (!_logClosed)
            {
                _log.Flush();
            }
        }

        using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if ((line.Contains("out: fail:", StringComparison.Ordinal) || line.Contains("out: crit:", StringComparison.Ordinal))
                && StampOf(line) is { } at && at >= since)
            {
                lines.Add(line);
            }
        }

        return lines;
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> (each passed as one argument) and extra
    /// environment variables; output goes to <paramref name="logPath"/>.
    /// </summary>
    public static ChildProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        string logPath,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(fileName) ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        log.WriteLine($"[{Timeline.Stamp()}] harness: {fileName} {string.Join(' ', info.ArgumentList)}");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, log, logPath);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, "out");
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, "err");
        process.Exited += (_, _) => child.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name}: {fileName} did not start.");
        }

        Running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Calls <paramref name="watcher"/> with every later line of output (from the reader threads).</summary>
    public void WatchLines(Action<string> watcher)
    {
        lock (_logLock)
        {
            _lineWatchers.Add(watcher);
        }
    }

    /// <summary>SIGKILL: the process dies at once, without running any shutdown code.</summary>
    public void Kill9()
    {
        Note("harness: SIGKILL");
        try
        {
            _process.Kill(entireProcessTree: false); // SIGKILL on Linux and macOS
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>
    /// SIGTERM, then waits up to <paramref name="timeout"/> for a graceful exit; returns false (after a SIGKILL) when the
    /// process did not exit in time.
    /// </summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        Note("harness: SIGTERM");
        if (!_process.HasExited && SendSignal(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"{Name}: kill({_process.Id}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        if (await WaitForExitAsync(timeout))
        {
            return true;
        }

        Kill9();
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        return false;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true when it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The <c>t=</c> stamp of a log line (<c>[06:23:22.812 t=17.239] …</c>).</summary>
    private static TimeSpan? StampOf(string line)
    {
        var start = line.IndexOf(" t=", StringComparison.Ordinal);
        var end = start < 0 ? -1 : line.IndexOf(']', start);
        return end > start && double.TryParse(line.AsSpan(start + 3, end - start - 3), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

    /// <summary>Writes a harness note into this process's log (so a log shows when faults were injected).</summary>
    public void Note(string text)
    {
        lock (_logLock)
        {
            if (!_logClosed)
            {
                _log.WriteLine($"[{Timeline.Stamp()}] {text}");
            }
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of the log, for a failure message.</summary>
    public string Tail(int lines = 30)
    {
        lock (_logLock)
        {
            if (!_logClosed)
            {
                _log.Flush();
            }

            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill9();
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        Running.TryRemove(_process.Id, out _);
        lock (_logLock)
        {
            _logClosed = true;
            _log.Dispose();
        }

        _process.Dispose();
    }

    private void OnLine(string? line, string stream)
    {
        if (line is null)
        {
            return;
        }

        Action<string>[] watchers;
        lock (_logLock)
        {
            // Writing after dispose would throw on the reader thread; the line is lost either way.
            if (!_logClosed)
            {
                _log.WriteLine($"[{Timeline.Stamp()}] {stream}: {line}");
            }

            watchers = [.. _lineWatchers];
        }

        foreach (var watcher in watchers)
        {
            watcher(line);
        }
    }

    private void OnExited()
    {
        ExitedAt = Timeline.Now;
        try
        {
            ExitCode = _process.ExitCode;
            Note($"harness: exited with code {_process.ExitCode}");
        }
        catch (InvalidOperationException)
        {
            // Disposed meanwhile.
        }
    }

    private static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            try
            {
                process.Kill();
            }
            catch (Exception)
            {
                // Already gone.
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
