using System.Reflection;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Leases;
using Floodgate.Grains.Batches;
using Floodgate.Grains.Items;

namespace Floodgate.Tests.Packaging;

/// <summary>
/// The packed <c>Floodgate.Abstractions</c> carries only what services calling Floodgate use: the grain-to-grain protocol
/// (items ↔ batches) is internal to <c>Floodgate.Grains</c>, and the lease keeper <see cref="LimiterLease"/> is SDK logic
/// in <c>Floodgate.Client</c>. (The PublicAPI baselines fail the build on any public change; this keeps these moves.)
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Assembly Abstractions = typeof(IBatchGrain).Assembly;

    public static TheoryData<Type> MovedOut => new()
    {
        typeof(IItemGrain),
        typeof(ItemWork),
        typeof(ItemLanes),
        typeof(ItemReport),
        typeof(IBatchItemEvents),
        typeof(LimiterLease),
    };

    [Theory]
    [MemberData(nameof(MovedOut))]
    public void Abstractions_PublicTypes_HaveNoneOfTheMovedTypesByName(Type moved) =>
        Assert.DoesNotContain(Abstractions.GetExportedTypes(), t => t.Name == moved.Name);

    [Theory]
    [InlineData(typeof(IItemGrain))]
    [InlineData(typeof(ItemWork))]
    [InlineData(typeof(ItemLanes))]
    [InlineData(typeof(ItemReport))]
    [InlineData(typeof(IBatchItemEvents))]
    public void GrainToGrainProtocol_IsInternalToGrains(Type protocol)
    {
        Assert.Equal("Floodgate.Grains", protocol.Assembly.GetName().Name);
        Assert.False(protocol.IsVisible);
    }

    [Fact]
    public void LimiterLease_IsPublicInTheClient()
    {
        Assert.Same(typeof(FloodgateClient).Assembly, typeof(LimiterLease).Assembly);
        Assert.True(typeof(LimiterLease).IsVisible);
    }

    [Fact]
    public void IBatchGrain_HasNoReportOutcome_ItemsReportThroughTheInternalInterface()
    {
        Assert.DoesNotContain(typeof(IBatchGrain).GetMethods(), m => m.Name.StartsWith("ReportOutcome", StringComparison.Ordinal));
        Assert.Contains(typeof(IBatchItemEvents).GetMethods(), m => m.Name == nameof(IBatchItemEvents.ReportOutcomesAsync));
    }
}
