using Floodgate.Grains.Batches;
using Microsoft.Extensions.Options;
using Orleans.Hosting;

namespace Floodgate.Tests.Batches;

public sealed class BatchOptionsTests
{
    private static ValidateOptionsResult Validate(BatchOptions options, TimeSpan? minimumReminderPeriod = null) =>
        new BatchOptionsValidator(Options.Create(new ReminderOptions { MinimumReminderPeriod = minimumReminderPeriod ?? TimeSpan.FromMinutes(1) }))
            .Validate(null, options);

    [Fact]
    public void Validate_Defaults_Succeed() => Assert.True(Validate(new BatchOptions()).Succeeded);

    [Fact]
    public void Validate_ReminderPeriodBelowOrleansMinimum_Fails()
    {
        var result = Validate(new BatchOptions { ReminderPeriod = TimeSpan.FromSeconds(10) });

        Assert.Contains("ReminderPeriod", result.FailureMessage);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11_000)]
    public void Validate_MinWriteIntervalOutOfRange_Fails(int milliseconds)
    {
        var result = Validate(new BatchOptions { MinWriteInterval = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.Contains("MinWriteInterval", result.FailureMessage);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(BatchConstants.MaxDispatchReservation + 1)]
    public void Validate_DispatchReservationOutOfRange_Fails(int reservation)
    {
        var result = Validate(new BatchOptions { DispatchReservation = reservation });

        Assert.Contains("DispatchReservation", result.FailureMessage);
    }

    [Theory]
    [InlineData(nameof(BatchOptions.ChunkSize), 0)]
    [InlineData(nameof(BatchOptions.ChunkSize), BatchConstants.MaxChunkSize + 1)]
    [InlineData(nameof(BatchOptions.CachedChunks), 0)]
    [InlineData(nameof(BatchOptions.MaxItems), 0)]
    [InlineData(nameof(BatchOptions.MaxItems), BatchConstants.MaxMaxItems + 1)]
    [InlineData(nameof(BatchOptions.IndexCapacity), 0)]
    public void Validate_CountOutOfRange_FailsNamingTheSetting(string setting, int value)
    {
        var options = new BatchOptions();
        typeof(BatchOptions).GetProperty(setting)!.SetValue(options, value);

        var result = Validate(options);

        Assert.Contains($"Floodgate:Batches:{setting}", result.FailureMessage);
    }

    [Theory]
    [InlineData(nameof(BatchOptions.Retention), "00:00:00")]
    [InlineData(nameof(BatchOptions.Retention), "3651.00:00:00")]
    [InlineData(nameof(BatchOptions.IdleTimeout), "-00:00:01")]
    [InlineData(nameof(BatchOptions.ReceiveTimeout), "00:00:00")]
    public void Validate_DurationOutOfRange_FailsNamingTheSetting(string setting, string value)
    {
        var options = new BatchOptions();
        typeof(BatchOptions).GetProperty(setting)!.SetValue(options, TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        var result = Validate(options);

        Assert.Contains($"Floodgate:Batches:{setting}", result.FailureMessage);
    }
}
