using Floodgate.Grains.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

public sealed class LeaseTableCodecTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    private static List<PersistedLease> Leases(int count) =>
        Enumerable.Range(0, count)
            .Select(i => new PersistedLease(
                $"lease-{i}", i % 2 == 0 ? "batch-a" : "hölder-ü", 1 + (i % 3), TimeSpan.FromSeconds(35), At.AddSeconds(i), At, i % 4 == 0 ? null : $"request-{i}"))
            .ToList();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(300)]
    public void Decode_OfJoinedLeases_GivesBackEveryLeaseInOrder(int count)
    {
        var leases = Leases(count);

        var table = LeaseTableCodec.Join(leases.Select(LeaseTableCodec.Encode).ToList());

        Assert.Equal(leases, LeaseTableCodec.Decode(table));
    }

    [Fact]
    public void Decode_AnExpiryWithAnOffset_GivesTheSameInstant()
    {
        var lease = Leases(1)[0] with { ExpiresAt = new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(2)) };

        var back = LeaseTableCodec.Decode(LeaseTableCodec.Join([LeaseTableCodec.Encode(lease)])).Single();

        Assert.Equal(lease.ExpiresAt.UtcTicks, back.ExpiresAt.UtcTicks);
    }

    [Theory]
    [InlineData(0)] // empty
    [InlineData(3)] // the header cut short
    [InlineData(20)] // a lease cut short
    public void Decode_ATruncatedTable_ThrowsInvalidData(int keep)
    {
        var table = LeaseTableCodec.Join(Leases(2).Select(LeaseTableCodec.Encode).ToList());

        Assert.Throws<InvalidDataException>(() => LeaseTableCodec.Decode(table.AsSpan(0, keep)));
    }

    [Fact]
    public void Decode_AnUnknownVersionOrTrailingBytes_ThrowsInvalidData()
    {
        var table = LeaseTableCodec.Join(Leases(2).Select(LeaseTableCodec.Encode).ToList());
        var unknown = (byte[])table.Clone();
        unknown[0] = 99;

        Assert.Throws<InvalidDataException>(() => LeaseTableCodec.Decode(unknown));
        Assert.Throws<InvalidDataException>(() => LeaseTableCodec.Decode([.. table, 0]));
    }

    [Fact]
    public void ReadLeases_ARecordWrittenBeforeTheEncodedTable_ReadsItsLeaseList()
    {
        var legacy = new LimiterRecord { Leases = Leases(3) };

        Assert.Equal(legacy.Leases, legacy.ReadLeases());
    }

    [Fact]
    public void EncodeLeases_OfALedger_RestoresIntoASuccessorWithTheSameTable()
    {
        var time = new FakeTimeProvider(At);
        var ledger = new PermitLedger("l", time);
        ledger.SetMaxConcurrency(10);
        var kept = ledger.TryAcquire("a", 2, TimeSpan.FromSeconds(30))!;
        var released = ledger.TryAcquire("b", 1, TimeSpan.FromSeconds(30))!;
        _ = ledger.EncodeLeases(); // bytes made for both leases
        ledger.Release(released.LeaseId);
        ledger.TryAcquire("c", 3, TimeSpan.FromSeconds(30));

        var record = new LimiterRecord { LeaseTable = ledger.EncodeLeases() };
        var successor = new PermitLedger("l", time);
        successor.SetMaxConcurrency(10);
        successor.Restore(record.ReadLeases(), []);

        Assert.Equal(ledger.SnapshotLeases(), successor.SnapshotLeases());
        Assert.Equal(5, successor.InUse);
        Assert.Contains(successor.SnapshotLeases(), l => l.LeaseId == kept.LeaseId);
    }
}
