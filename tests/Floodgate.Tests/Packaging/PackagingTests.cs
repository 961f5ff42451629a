using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Floodgate.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> of the SDK and the CLI, as the README shows it: packages with their metadata and README, and a
/// CLI that installs as a <c>dotnet tool</c> and runs as <c>floodgate</c>. Packs what the test run already built.
/// </summary>
public sealed class PackagingTests : IDisposable
{
    private static readonly string Configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        ? "Release"
        : "Debug";

    private readonly string _output = Directory.CreateTempSubdirectory("floodgate-pack-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Theory]
    [InlineData("src/Floodgate.Abstractions", "Floodgate.Abstractions", "lib/net10.0/Floodgate.Abstractions.dll")]
    [InlineData("src/Floodgate.Client", "Floodgate.Client", "lib/net10.0/Floodgate.Client.dll")]
    [InlineData("Client", "Floodgate.Cli", "tools/net10.0/any/floodgate.dll")]
    public async Task Pack_ProducesAPackageWithMetadataReadmeAndItsAssembly(string project, string id, string assembly)
    {
        var package = await PackAsync(project, id);

        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains(assembly, entries);
        Assert.Contains("README.md", entries);
        var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string Meta(string name) => nuspec.Descendants().Single(e => e.Name.LocalName == name).Value;
        Assert.Equal(id, Meta("id"));
        Assert.Equal("0.1.0", Meta("version"));
        Assert.False(string.IsNullOrWhiteSpace(Meta("description")));
        Assert.Equal("README.md", Meta("readme"));
        Assert.Contains("orleans", Meta("tags"), StringComparison.Ordinal);

        // Build-time analyzers (the public API baseline) check this repository only; they never reach a consumer.
        Assert.DoesNotContain(
            nuspec.Descendants().Where(e => e.Name.LocalName == "dependency"),
            d => d.Attribute("id")!.Value.Contains("Analyzers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cli_InstallsAsADotnetToolAndRunsAsFloodgate()
    {
        await PackAsync("Client", "Floodgate.Cli");
        var tools = Path.Combine(_output, "tools");

        var install = await RunAsync("dotnet", ["tool", "install", "Floodgate.Cli", "--tool-path", tools, "--add-source", _output, "--version", "0.1.0"]);
        Assert.True(install.ExitCode == 0, install.Output);
        var help = await RunAsync(Path.Combine(tools, "floodgate"), ["--help"]);

        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Contains("submit", help.Output, StringComparison.Ordinal);
    }

    private async Task<string> PackAsync(string project, string id)
    {
        var pack = await RunAsync("dotnet", ["pack", Path.Combine(RepositoryRoot(), project), "--no-build", "-c", Configuration, "-o", _output, "--nologo"]);
        Assert.True(pack.ExitCode == 0, pack.Output);
        return Path.Combine(_output, $"{id}.0.1.0.nupkg");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Orleans.sln not found above the test's directory.");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
