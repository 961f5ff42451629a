using Floodgate.Bench.Peers;

namespace Floodgate.Bench.Tests;

/// <summary><c>peers --only</c> refuses what it cannot do before it starts anything.</summary>
public sealed class OnlyOptionTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"floodgate-bench-only-{Guid.NewGuid():N}.md");

    [Theory]
    [InlineData("nope")]
    [InlineData("rtt,nope")]
    public async Task PeersOnly_UnknownGroup_ExitsWithUsageError(string groups)
    {
        Assert.Equal(2, await PeersBenchmark.RunAsync(["--only", groups]));
    }

    [Fact]
    public async Task PeersOnly_WithWrite_ExitsWithUsageErrorAndLeavesTheFileAlone()
    {
        const string kept = "# Benchmarks\n";
        await File.WriteAllTextAsync(_file, kept);

        Assert.Equal(2, await PeersBenchmark.RunAsync(["--only", "rtt", "--write", _file]));

        Assert.Equal(kept, await File.ReadAllTextAsync(_file));
    }

    public void Dispose() => File.Delete(_file);
}
