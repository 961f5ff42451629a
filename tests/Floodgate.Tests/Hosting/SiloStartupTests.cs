using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Floodgate.ProcessCluster.Processes;

namespace Floodgate.Tests.Hosting;

/// <summary>
/// The built silo started as an operator starts it (<c>dotnet Floodgate.Silo.dll</c>): a configuration mistake is one
/// line on stderr and exit code 2, never a stack trace; a good start prints where it listens.
/// </summary>
public sealed class SiloStartupTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_TypoInKey_ExitsTwoWithOneLineNamingTheKey()
    {
        await using var run = await SiloRun.RunToExitAsync(FreeSiloArgs("--Floodgate:Items:AtemptTimeout=00:00:05"));

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr);
        Assert.Contains("'Floodgate:Items:AtemptTimeout'", line);
        Assert.Contains("AttemptTimeout", line.Split("known under", 2)[1]);
    }

    [Fact]
    public async Task Run_ValueThatDoesNotConvert_ExitsTwoWithOneLineNamingKeyAndType()
    {
        await using var run = await SiloRun.RunToExitAsync(FreeSiloArgs("--Floodgate:Items:AttemptTimeout=banana"));

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr);
        Assert.Contains("Floodgate:Items:AttemptTimeout", line);
        Assert.Contains("TimeSpan", line);
        Assert.DoesNotContain(run.Stdout, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_NegativeRetryCount_ExitsTwoWithOneLineAndNoLog()
    {
        await using var run = await SiloRun.RunToExitAsync(FreeSiloArgs("--Floodgate:Items:MaxRetryAttempts=-1"));

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr);
        Assert.Contains("Floodgate:Items:MaxRetryAttempts", line);
        Assert.DoesNotContain(run.Stdout, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HTTP")]
    [InlineData("gateway")]
    public async Task Run_PortInUse_ExitsTwoWithOneLineNamingThePort(string which)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;

        await using var run = await SiloRun.RunToExitAsync(which == "HTTP" ? FreeSiloArgs(httpPort: taken) : FreeSiloArgs(gatewayPort: taken));

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr);
        Assert.Contains($"{which} port {taken}", line);
        Assert.DoesNotContain(run.Stdout, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_GoodConfiguration_PrintsWhereItListens()
    {
        int http = FreePort.Next(), silo = FreePort.Next(), gateway = FreePort.Next();
        await using var run = SiloRun.Start(FreeSiloArgs(httpPort: http, siloPort: silo, gatewayPort: gateway));

        var lines = await run.WaitForStdoutAsync(l => l.StartsWith("listening: gateway", StringComparison.Ordinal), ExitTimeout);

        Assert.Contains($"listening: HTTP http://127.0.0.1:{http}", lines);
        Assert.Contains($"listening: dashboard http://127.0.0.1:{http}/dashboard", lines);
        Assert.Contains($"listening: console http://127.0.0.1:{http}/console", lines);
        Assert.Contains($"listening: silo 127.0.0.1:{silo}", lines);
        Assert.Contains($"listening: gateway 127.0.0.1:{gateway}", lines);
        Assert.Empty(run.Stderr);
    }

    private static string[] FreeSiloArgs(string? extra = null, int? httpPort = null, int? siloPort = null, int? gatewayPort = null)
    {
        string[] args =
        [
            $"--Urls=http://127.0.0.1:{httpPort ?? FreePort.Next()}",
            $"--Floodgate:Silo:SiloPort={siloPort ?? FreePort.Next()}",
            $"--Floodgate:Silo:GatewayPort={gatewayPort ?? FreePort.Next()}",
        ];
        return extra is null ? args : [.. args, extra];
    }

    /// <summary>The silo as a child process, stdout and stderr kept apart line by line; killed on dispose.</summary>
    private sealed class SiloRun : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _stdout = new();
        private readonly ConcurrentQueue<string> _stderr = new();
        private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private SiloRun(Process process) => _process = process;

        public IReadOnlyList<string> Stdout => [.. _stdout];

        public IReadOnlyList<string> Stderr => [.. _stderr];

        public int ExitCode => _process.ExitCode;

        public static SiloRun Start(IEnumerable<string> args)
        {
            var info = new ProcessStartInfo(Programs.Dotnet)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(Programs.SiloDll)!,
            };
            info.ArgumentList.Add(Programs.SiloDll);
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            // Console lines are what an operator sees; no colors or environment-specific settings.
            info.Environment["DOTNET_ENVIRONMENT"] = "Production";
            info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            var run = new SiloRun(new Process { StartInfo = info });
            run._process.OutputDataReceived += (_, e) => run.OnLine(e.Data, run._stdout, run._outputClosed);
            run._process.ErrorDataReceived += (_, e) => run.OnLine(e.Data, run._stderr, run._errorClosed);
            run._process.Start();
            run._process.BeginOutputReadLine();
            run._process.BeginErrorReadLine();
            return run;
        }

        /// <summary>Runs the silo until it exits by itself (at most a minute), then returns its output.</summary>
        public static async Task<SiloRun> RunToExitAsync(IEnumerable<string> args)
        {
            var run = Start(args);
            try
            {
                using var timeout = new CancellationTokenSource(ExitTimeout);
                await run._process.WaitForExitAsync(timeout.Token);
                await Task.WhenAll(run._outputClosed.Task, run._errorClosed.Task).WaitAsync(timeout.Token);
                return run;
            }
            catch (OperationCanceledException)
            {
                await run.DisposeAsync();
                throw new TimeoutException($"The silo did not exit within {ExitTimeout}. stdout: {string.Join('\n', run.Stdout)}");
            }
        }

        /// <summary>Waits until a stdout line matches <paramref name="done"/>; returns stdout so far.</summary>
        public async Task<IReadOnlyList<string>> WaitForStdoutAsync(Func<string, bool> done, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (!_stdout.Any(done))
            {
                if (deadline.Elapsed > timeout || _process.HasExited)
                {
                    throw new TimeoutException(
                        $"No matching line within {timeout} (exited: {_process.HasExited}). stdout: {string.Join('\n', Stdout)} stderr: {string.Join('\n', Stderr)}");
                }

                await Task.Delay(50);
            }

            return Stdout;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(timeout.Token);
            }

            _process.Dispose();
        }

        private void OnLine(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed)
        {
            if (line is null)
            {
                closed.TrySetResult();
            }
            else
            {
                lines.Enqueue(line);
            }
        }
    }
}
