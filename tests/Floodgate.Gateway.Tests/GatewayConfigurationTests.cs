using Floodgate.Silo.Hosting;
using Microsoft.Extensions.Configuration;

namespace Floodgate.Gateway.Tests;

/// <summary>
/// The gateway's settings under the silo's strict start-up check: an unknown key, a value that does not convert, or one
/// out of range is one line on stderr and exit code 2, and never shows a key.
/// </summary>
public sealed class GatewayConfigurationTests
{
    private const string Secret = "gw-secret-key-0123456789";

    [Fact]
    public void CheckConfiguration_EveryDocumentedGatewayKey_IsKnown()
    {
        var problems = SiloCommand.CheckConfiguration(Configuration(
            ("Floodgate:Gateway:Upstreams:openai:BaseUrl", "https://api.openai.com/"),
            ("Floodgate:Gateway:Upstreams:openai:ApiKey", "sk-x"),
            ("Floodgate:Gateway:Upstreams:openai:Limiter", "openai:acct-1"),
            ("Floodgate:Gateway:Upstreams:openai:MaxConcurrency", "10"),
            ("Floodgate:Gateway:Upstreams:openai:RequestsPerMinute", "600"),
            ("Floodgate:Gateway:Upstreams:openai:TokensPerMinute", "100000"),
            ("Floodgate:Gateway:Upstreams:openai:ModelLimiters:gpt-4o", "openai:gpt-4o"),
            ("Floodgate:Gateway:DefaultUpstream", "openai"),
            ("Floodgate:Gateway:MaxQueueTime", "00:00:30"),
            ("Floodgate:Gateway:DefaultMaxTokens", "256"),
            ("Floodgate:Gateway:Keys:0:Key", Secret),
            ("Floodgate:Gateway:Keys:0:Tenant", "team-a"),
            ("Floodgate:Gateway:Keys:0:MaxConcurrency", "4"),
            ("Floodgate:Gateway:Keys:0:RequestsPerMinute", "60"),
            ("Floodgate:Gateway:Keys:0:Cache", "true"),
            ("Floodgate:Limiters:TokensPerMinute:x", "1000"),
            ("Floodgate:Limiters:BackoffIncreaseAfterSuccesses", "5"),
            ("Floodgate:Limiters:BackoffMaxPause", "00:01:00")));

        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Floodgate:Gateway:Upstreams:openai:BaseUri", "known under Floodgate:Gateway:Upstreams:openai: BaseUrl, ApiKey, Limiter")]
    [InlineData("Floodgate:Gateway:MaxQueue", "known under Floodgate:Gateway: Upstreams, DefaultUpstream, MaxQueueTime")]
    [InlineData("Floodgate:Gateway:Keys:0:Tennant", "known under Floodgate:Gateway:Keys:0: Key, Tenant")]
    public void CheckConfiguration_UnknownGatewayKey_OneLineNamingIt(string key, string hint)
    {
        var problem = Assert.Single(SiloCommand.CheckConfiguration(Configuration((key, "1"))));

        Assert.Contains($"'{key}'", problem);
        Assert.Contains(hint, problem);
    }

    [Theory]
    [InlineData("--Floodgate:Gateway:MaxQueueTime=banana", "Floodgate:Gateway:MaxQueueTime")]
    [InlineData("--Floodgate:Gateway:Upstreams:sim:MaxConcurrency=ten", "Floodgate:Gateway:Upstreams:sim:MaxConcurrency")]
    [InlineData("--Floodgate:Gateway:MaxQueueTime=-00:00:01", "Floodgate:Gateway:MaxQueueTime must be positive")]
    [InlineData("--Floodgate:Gateway:Upstreams:sim:BaseUrl=ftp://x/", "Floodgate:Gateway:Upstreams:sim:BaseUrl must be an absolute http or https URL")]
    [InlineData("--Floodgate:Gateway:DefaultUpstream=nope", "Floodgate:Gateway:DefaultUpstream 'nope' names no upstream")]
    [InlineData("--Floodgate:Gateway:Keys:0:Key=short", "Floodgate:Gateway:Keys:0:Key must be 16 to 512 characters long")]
    [InlineData("--Floodgate:Gateway:Keys:0:Tenant=bad/tenant", "Floodgate:Gateway:Keys:0:Tenant")]
    [InlineData("--Floodgate:Gateway:Keys:0:MaxConcurrency=0", "Floodgate:Gateway:Keys:0:MaxConcurrency must be between 1")]
    [InlineData("--Floodgate:Gateway:Keys:0:Cache=maybe", "Floodgate:Gateway:Keys:0:Cache")]
    [InlineData("--Floodgate:Gateway:Upstreams:sim:TokensPerMinute=0", "Floodgate:Gateway:Upstreams:sim:TokensPerMinute must be between 1")]
    [InlineData("--Floodgate:Limiters:TokensPerMinute:x=-5", "Floodgate:Limiters:TokensPerMinute:x must be between 1")]
    [InlineData("--Floodgate:Gateway:Upstreams:sim:Limiter=floodgate-warm-up.l", "Floodgate:Gateway:Upstreams:sim:Limiter: Limiter name 'floodgate-warm-up.l' is not allowed: names starting with 'floodgate-warm-up.' are reserved")]
    [InlineData("--Floodgate:Gateway:Upstreams:sim:ModelLimiters:gpt-4o=floodgate-warm-up.m", "Floodgate:Gateway:Upstreams:sim:ModelLimiters:gpt-4o: Limiter name 'floodgate-warm-up.m' is not allowed")]
    [InlineData("--Floodgate:Limiters:Limits:floodgate-warm-up.l=5", "Floodgate:Limiters:Limits: Limiter name 'floodgate-warm-up.l' is not allowed: names starting with 'floodgate-warm-up.' are reserved")]
    public async Task Run_BadGatewayValue_ExitsTwoWithOneLineAndNoKey(string setting, string expected)
    {
        var error = new StringWriter();
        var output = new StringWriter();

        var exit = await SiloCommand.RunAsync(Args(setting), output, error);

        Assert.Equal(SiloCommand.ConfigurationError, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
        Assert.DoesNotContain(Secret, line);
        Assert.DoesNotContain("   at ", error.ToString() + output);
    }

    [Fact]
    public async Task Run_DuplicateGatewayKey_NamesBothPositionsButNeverTheKey()
    {
        var error = new StringWriter();

        var exit = await SiloCommand.RunAsync(
            Args($"--Floodgate:Gateway:Keys:1:Key={Secret}", "--Floodgate:Gateway:Keys:1:Tenant=b"), new StringWriter(), error);

        Assert.Equal(SiloCommand.ConfigurationError, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Floodgate:Gateway:Keys:1:Key duplicates Floodgate:Gateway:Keys:0:Key", line);
        Assert.DoesNotContain(Secret, line);
    }

    private static string[] Args(params string[] settings) =>
    [
        "--Urls=http://127.0.0.1:0",
        $"--Floodgate:Silo:SiloPort={FreeTcpPort.Next()}",
        $"--Floodgate:Silo:GatewayPort={FreeTcpPort.Next()}",
        "--Floodgate:Silo:Dashboard=false",
        "--Floodgate:Gateway:Upstreams:sim:BaseUrl=http://127.0.0.1:9/",
        $"--Floodgate:Gateway:Keys:0:Key={Secret}",
        "--Floodgate:Gateway:Keys:0:Tenant=a",
        .. settings,
    ];

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
}
