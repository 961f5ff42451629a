using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Floodgate.Bench.Peers;

/// <summary>
/// The job-queue peer: BullMQ (npm <c>bullmq</c>) on the harness's redis-server, driven through
/// <c>bench/peers/bullmq/run.mjs</c> (one run per node process; the script prints one JSON line). Its npm packages are
/// installed into that folder on first use (<c>npm install</c>, which keeps the committed lock file's versions; <c>npm ci</c>
/// of npm 11 refuses that lock file for lacking entries of msgpackr's optional packages for other platforms).
/// </summary>
internal sealed class BullMqPeer
{
    private readonly string _folder;
    private readonly string _redis;

    private BullMqPeer(string folder, string redis)
    {
        _folder = folder;
        _redis = redis;
    }

    /// <summary>The BullMQ version the script ran (from its last answer).</summary>
    public string Version { get; private set; } = "?";

    /// <summary>The peer, ready to run (npm packages installed), or the reason it cannot run here.</summary>
    public static async Task<(BullMqPeer? Peer, string? Unavailable)> PrepareAsync(string redisConnectionString)
    {
        var folder = FindFolder();
        if (folder is null)
        {
            return (null, "bench/peers/bullmq was not found above the harness's folder");
        }

        if (!Path.Exists(Path.Combine(folder, "node_modules", "bullmq")))
        {
            var (code, output) = await RunAsync("npm", ["install", "--no-audit", "--no-fund"], folder);
            if (code != 0)
            {
                return (null, $"npm install in {folder} failed (exit {code}): {output.Trim().Split('\n').LastOrDefault()}");
            }
        }

        return (new BullMqPeer(folder, redisConnectionString), null);
    }

    /// <summary>
    /// <paramref name="jobs"/> jobs through one worker of <paramref name="concurrency"/> with a queue-wide (global)
    /// concurrency of the same; <paramref name="processingOnly"/> adds every job before the worker starts and times the
    /// worker alone. Each job sleeps <paramref name="sleep"/> (zero: a no-op).
    /// </summary>
    public async Task<TimeSpan> RunAsync(int jobs, int concurrency, bool processingOnly, TimeSpan sleep)
    {
        var (code, output) = await RunAsync("node",
        [
            "run.mjs", "--redis", _redis, "--jobs", Invariant(jobs), "--concurrency", Invariant(concurrency),
            "--global", Invariant(concurrency), "--mode", processingOnly ? "processing" : "e2e",
            "--sleep-ms", Invariant((int)sleep.TotalMilliseconds),
        ], _folder);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
        if (code != 0 || line is null)
        {
            throw new InvalidOperationException($"The BullMQ run failed (exit {code}):\n{output}");
        }

        var result = JsonDocument.Parse(line).RootElement;
        Version = result.GetProperty("bullmq").GetString() ?? "?";
        return TimeSpan.FromSeconds(result.GetProperty("seconds").GetDouble());
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? FindFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "bench", "peers", "bullmq");
            if (File.Exists(Path.Combine(candidate, "run.mjs")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, string[] arguments, string folder)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout + await stderr);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, $"{program} could not be started: {ex.Message}");
        }
    }
}
