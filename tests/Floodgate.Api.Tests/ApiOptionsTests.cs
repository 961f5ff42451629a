using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace Floodgate.Api.Tests;

public sealed class ApiOptionsTests
{
    [Fact]
    public async Task Start_ShortClientKey_FailsNamingTheSettingNotTheKey()
    {
        var message = await StartFailureAsync(new()
        {
            ["Floodgate:Api:ClientKeys:0"] = "short-key",
        });

        Assert.Contains("Floodgate:Api:ClientKeys:0", message);
        Assert.Contains("at least 16 characters", message);
        Assert.DoesNotContain("short-key", message);
    }

    [Fact]
    public async Task Start_SameKeyInBothLists_FailsNamingBothSettings()
    {
        const string key = "the-same-key-in-two-roles";

        var message = await StartFailureAsync(new()
        {
            ["Floodgate:Api:ClientKeys:0"] = key,
            ["Floodgate:Api:AdminKeys:0"] = key,
        });

        Assert.Contains("Floodgate:Api:AdminKeys:0 duplicates Floodgate:Api:ClientKeys:0", message);
        Assert.DoesNotContain(key, message);
    }

    private static async Task<string> StartFailureAsync(Dictionary<string, string?> api)
    {
        var app = FloodgateSiloHost.Build([], ApiSilo.SiloSettings(api));
        await using var _ = app;
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        return string.Join(" ", ex.Failures);
    }
}
