using Floodgate.Silo.Hosting;
using Microsoft.Extensions.Configuration;

namespace Floodgate.Tests.Hosting;

/// <summary>The silo's unknown-key check, read from the options classes of every section it binds.</summary>
public sealed class ConfigurationKeysTests
{
    [Fact]
    public void CheckConfiguration_EveryKeyOfTheShippedAppsettings_IsKnown()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Path.GetDirectoryName(Floodgate.ProcessCluster.Processes.Programs.SiloDll)!, "appsettings.json"), optional: false)
            .Build();

        Assert.Empty(SiloCommand.CheckConfiguration(configuration));
    }

    [Fact]
    public void CheckConfiguration_DictionaryAndListChildren_AreData()
    {
        var problems = SiloCommand.CheckConfiguration(Configuration(
            ("Floodgate:Limiters:Limits:any-name", "5"),
            ("Floodgate:Limiters:RequestsPerMinute:other", "600"),
            ("Floodgate:Api:ClientKeys:0", "client-key-0123456789"),
            ("Floodgate:Processors:OpenAiChat:Model", "m"),
            ("floodgate:items:attempttimeout", "00:00:05")));

        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Floodgate:Items:AtemptTimeout", "Floodgate:Items:AtemptTimeout", "known under Floodgate:Items: AttemptTimeout")]
    [InlineData("Floodgate:Limiter:Limits:x", "Floodgate:Limiter", "known under Floodgate: Silo, Api, Limiters")]
    [InlineData("Floodgate:Processors:OpenAi:Model", "Floodgate:Processors:OpenAi", "known under Floodgate:Processors: OpenAiChat")]
    [InlineData("Floodgate:Items:AttemptTimeout:Seconds", "Floodgate:Items:AttemptTimeout:Seconds", "is a single TimeSpan")]
    public void CheckConfiguration_UnknownKey_OneLineNamingIt(string key, string reported, string hint)
    {
        var problem = Assert.Single(SiloCommand.CheckConfiguration(Configuration((key, "1"))));

        Assert.StartsWith($"error: unknown configuration key '{reported}' (", problem);
        Assert.Contains(hint, problem);
    }

    [Theory]
    [InlineData("Floodgate:Silo:WarmUp", "Enabled, Items, MaxRounds, Timeout")]
    [InlineData("Floodgate:Items", "AttemptTimeout")]
    public void CheckConfiguration_ValueGivenToASection_OneLineNamingItsSettings(string key, string settings)
    {
        var problem = Assert.Single(SiloCommand.CheckConfiguration(Configuration((key, "false"))));

        Assert.StartsWith($"error: '{key}' is a section, not a single value (known under it: ", problem);
        Assert.Contains(settings, problem);
    }

    [Fact]
    public void CheckConfiguration_ValueThatDoesNotConvert_NamesKeyAndType()
    {
        var problem = Assert.Single(SiloCommand.CheckConfiguration(Configuration(("Floodgate:Batches:MaxResultPage", "lots"))));

        Assert.Contains("'Floodgate:Batches:MaxResultPage'", problem);
        Assert.Contains("Int32", problem);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build();
}
