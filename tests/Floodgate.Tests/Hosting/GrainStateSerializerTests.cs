using Floodgate.Grains.Hosting;
using Floodgate.Grains.Limiting;
using Floodgate.Limiting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Floodgate.Tests.Hosting;

/// <summary>
/// The storage serializer writes what Orleans' own writes, byte for byte, and reads it back: state stored before it
/// (or by a silo without it, in a rolling deploy) and after it is the same.
/// </summary>
public sealed class GrainStateSerializerTests
{
    private static readonly Serializer OrleansSerializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(LimiterRecord).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static GrainStateSerializer CreateSut() => new(OrleansSerializer);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(300)]
    public void Serialize_LimiterRecord_SameBytesAsOrleansSerializerAndReadsBack(int leases)
    {
        var record = Record(leases);

        var ours = CreateSut().Serialize(record);
        var stock = new OrleansGrainStorageSerializer(OrleansSerializer).Serialize(record);
        var back = CreateSut().Deserialize<LimiterRecord>(ours)!;

        Assert.Equal(stock.ToArray(), ours.ToArray());
        Assert.Equal(record.Leases, back.Leases);
        Assert.Equal(record.RateHistory, back.RateHistory);
        Assert.Equal((record.Epoch, record.Active, record.MaxConcurrency, record.Source), (back.Epoch, back.Active, back.MaxConcurrency, back.Source));
    }

    [Fact]
    public async Task SerializeAsync_ToAStream_ReadsBackWithTheArrayForm()
    {
        var record = Record(3);
        using var stream = new MemoryStream();

        await CreateSut().SerializeAsync(record, stream);
        var back = CreateSut().Deserialize<LimiterRecord>(new BinaryData(stream.ToArray()))!;

        Assert.Equal(record.Leases, back.Leases);
    }

    private static LimiterRecord Record(int leases)
    {
        var at = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        var record = new LimiterRecord { MaxConcurrency = 400, Source = LimitSource.Admin, Epoch = 7, Active = true };
        for (var i = 0; i < leases; i++)
        {
            record.Leases.Add(new PersistedLease($"lease-{i}", i % 2 == 0 ? "batch-a" : "batch-b", 1 + (i % 3), TimeSpan.FromMinutes(1), at.AddSeconds(i), at, i % 4 == 0 ? null : $"request-{i}"));
        }

        record.RateHistory.Add(new RateBucket(at, 12));
        return record;
    }
}
