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
}
