using System.Text.RegularExpressions;
using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Tests;

public sealed partial class QuickModeTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"floodgate-bench-quick-{Guid.NewGuid():N}.md");

    [Fact]
    public async Task PeersQuick_RunsEveryDotNetPair_AndWritesARowWithARatioForEach()
    {
        const string kept = "# Benchmarks\n\n## Another scenario\n\nkept as it was\n";
        await File.WriteAllTextAsync(_file, kept);

        var exitCode = await PeersBenchmark.RunAsync(["--quick", "--write", _file]);

        Assert.Equal(0, exitCode);
        var text = await File.ReadAllTextAsync(_file);
        Assert.Contains("## Another scenario\n\nkept as it was", text);
        Assert.Contains(PeersBenchmark.SectionHeading, text);
        Assert.Contains("peers --quick", text);
        var rows = text.Split('\n').Where(line => RatioRow().IsMatch(line)).ToList();
        Assert.Contains(rows, row => row.StartsWith("| Utilization at limit 10,", StringComparison.Ordinal));
        Assert.Contains(rows, row => row.StartsWith("| Utilization at limit 60,", StringComparison.Ordinal));
        Assert.Contains(rows, row => row.StartsWith("| Acquire-wait p99,", StringComparison.Ordinal));
        Assert.Contains(rows, row => row.StartsWith("| Fairness:", StringComparison.Ordinal));
        Assert.Contains(rows, row => row.StartsWith("| No-op throughput,", StringComparison.Ordinal));

        // The limits held as the simulator saw them (an outside observer, not Floodgate's own counters).
        Assert.Matches(@"At limit 10 the simulator saw at most ([1-9]|10) of Floodgate's requests", text);
        Assert.Matches(@"At limit 60 the simulator saw at most ([1-9]|[1-5][0-9]|60) of Floodgate's requests", text);
    }

    public void Dispose() => File.Delete(_file);

    // | scenario | result | peer | peer result | **1.23×** ↑ | 1.50 |  — a finite, non-negative ratio, then the load.
    [GeneratedRegex(@"^\| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| \*\*\d+\.\d{2,3}×\*\* [↑↓] \| [^|]+ \|$")]
    private static partial Regex RatioRow();
}
