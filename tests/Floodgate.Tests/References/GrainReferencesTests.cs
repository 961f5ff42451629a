using Floodgate.Batches;
using Floodgate.Client.References;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.References;

[Collection(ClusterCollection.Name)]
public sealed class GrainReferencesTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public void Get_MakesTheReferenceGetGrainMakes()
    {
        var references = new GrainReferences(Grains);

        var made = (GrainReference)(object)references.Get<IGlobalLimiterGrain>("refs-a");
        var expected = (GrainReference)(object)Grains.GetGrain<IGlobalLimiterGrain>("refs-a");

        Assert.Equal(expected.GrainId, made.GrainId);
        Assert.Equal(expected.InterfaceType, made.InterfaceType);
        Assert.NotEqual(made.GrainId, ((GrainReference)(object)references.Get<IGlobalLimiterGrain>("refs-b")).GrainId);
        Assert.NotEqual(made.GrainId.Type, ((GrainReference)(object)references.Get<IBatchGrain>("refs-a")).GrainId.Type);
    }

    [Fact]
    public void Shared_KeepsOneReferencePerInterfaceAndKey()
    {
        var references = new GrainReferences(Grains);

        var first = references.Shared<IGlobalLimiterGrain>("refs-shared");

        Assert.Same(first, references.Shared<IGlobalLimiterGrain>("refs-shared"));
        Assert.NotSame(first, references.Shared<IGlobalLimiterGrain>("refs-other"));
        Assert.NotSame((object)first, references.Shared<IBatchGrain>("refs-shared"));
    }

    [Fact]
    public void Shared_PastTheBound_StartsOverInsteadOfGrowing()
    {
        var references = new GrainReferences(Grains);
        var first = references.Shared<IGlobalLimiterGrain>("refs-bound-0");

        for (var i = 1; i <= GrainReferences.MaxShared; i++)
        {
            references.Shared<IGlobalLimiterGrain>($"refs-bound-{i}");
        }

        // The cache was cleared once it was full, so the first name gets a new reference (to the same grain).
        var again = references.Shared<IGlobalLimiterGrain>("refs-bound-0");
        Assert.NotSame(first, again);
        Assert.Equal(((GrainReference)(object)first).GrainId, ((GrainReference)(object)again).GrainId);
    }

    [Fact]
    public async Task Shared_ReferenceCallsTheGrain()
    {
        var references = new GrainReferences(Grains);

        var status = await references.Shared<IGlobalLimiterGrain>("refs-call").SetLimitsAsync(new LimiterLimits(3));

        Assert.Equal(3, status.MaxConcurrency);
        Assert.Equal(3, (await Grains.GetGrain<IGlobalLimiterGrain>("refs-call").GetStatusAsync()).MaxConcurrency);
    }

    [Fact]
    public void Get_BlankKey_IsRefused()
    {
        var references = new GrainReferences(Grains);

        Assert.Throws<ArgumentException>(() => references.Get<IGlobalLimiterGrain>(" "));
    }
}
