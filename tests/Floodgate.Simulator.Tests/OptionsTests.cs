using Microsoft.Extensions.Configuration;

namespace Floodgate.Simulator.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Validate_Defaults_ReturnsNoErrors()
    {
        var options = new SimulatorOptions();

        Assert.Empty(options.Validate());
        Assert.Equal(10, options.MaxConcurrency);
        Assert.Equal(0, options.RequestsPerMinute);
        Assert.Equal(200, options.LatencyMs);
        Assert.Equal(1, options.RetryAfterSeconds);
        Assert.Equal(12345, options.Seed);
    }

    public static TheoryData<string, Action<SimulatorOptions>> InvalidOptions => new()
    {
        { nameof(SimulatorOptions.MaxConcurrency), o => o.MaxConcurrency = -1 },
        { nameof(SimulatorOptions.RequestsPerMinute), o => o.RequestsPerMinute = -5 },
        { nameof(SimulatorOptions.LatencyMs), o => o.LatencyMs = -1 },
        { nameof(SimulatorOptions.LatencyJitterMs), o => o.LatencyJitterMs = -1 },
        { nameof(SimulatorOptions.ErrorRate), o => o.ErrorRate = 1.5 },
        { nameof(SimulatorOptions.ErrorRate), o => o.ErrorRate = -0.1 },
        { nameof(SimulatorOptions.ErrorRate), o => o.ErrorRate = double.NaN },
        { nameof(SimulatorOptions.RetryAfterSeconds), o => o.RetryAfterSeconds = -1 },
        { nameof(SimulatorOptions.ApiKey), o => o.ApiKey = "   " },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task StartAsync_InvalidOption_ThrowsArgumentExceptionNamingField(string field, Action<SimulatorOptions> breakIt)
    {
        var options = new SimulatorOptions();
        breakIt(options);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => SimulatorServer.StartAsync(options));

        Assert.Contains(field, ex.Message);
        Assert.Equal("options", ex.ParamName);
        Assert.Contains(options.Validate(), message => message.Contains(field));
    }

    [Fact]
    public async Task StartAsync_SeveralInvalidOptions_ReportsEveryField()
    {
        var options = new SimulatorOptions { MaxConcurrency = -1, ErrorRate = 2 };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => SimulatorServer.StartAsync(options));

        Assert.Contains(nameof(SimulatorOptions.MaxConcurrency), ex.Message);
        Assert.Contains(nameof(SimulatorOptions.ErrorRate), ex.Message);
    }

    [Fact]
    public void Validate_SecretApiKey_IsNeverInMessages()
    {
        var options = new SimulatorOptions { ApiKey = "sk-secret", MaxConcurrency = -1 };

        Assert.DoesNotContain(options.Validate(), message => message.Contains("sk-secret"));
    }

    [Fact]
    public void TryLoadOptions_ConfigurationSection_BindsValues()
    {
        IConfiguration config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Simulator:MaxConcurrency"] = "4",
            ["Simulator:RequestsPerMinute"] = "60",
            ["Simulator:LatencyMs"] = "50",
            ["Simulator:ErrorRate"] = "0.25",
            ["Simulator:ApiKey"] = "abc",
        }).Build();

        Assert.True(SimulatorApp.TryLoadOptions(config, out SimulatorOptions? options, out IReadOnlyList<string> errors));
        Assert.Empty(errors);
        Assert.Equal(4, options.MaxConcurrency);
        Assert.Equal(60, options.RequestsPerMinute);
        Assert.Equal(50, options.LatencyMs);
        Assert.Equal(0.25, options.ErrorRate);
        Assert.Equal("abc", options.ApiKey);
        Assert.Equal(12345, options.Seed);
    }

    [Theory]
    [InlineData("Simulator:MaxConcurrency", "-2", "MaxConcurrency")]
    [InlineData("Simulator:LatencyMs", "fast", "LatencyMs")]
    [InlineData("Simulator:Latency", "10", "Latency")]
    public void TryLoadOptions_BadConfiguration_ReturnsErrorNamingKey(string key, string value, string expected)
    {
        IConfiguration config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [key] = value })
            .Build();

        Assert.False(SimulatorApp.TryLoadOptions(config, out _, out IReadOnlyList<string> errors));
        Assert.Contains(errors, e => e.Contains(expected));
    }
}
