using System.Buffers.Binary;
using System.Text;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// The lease table's stored form (<see cref="LimiterRecord.LeaseTable"/>): a version byte, the lease count, then each
/// lease's own bytes. The table is written on every group commit, so each lease is encoded once, when it is granted or
/// renewed (<see cref="PermitLedger"/> keeps the bytes with the lease), and a write only joins them: a copy of the
/// table instead of serializing every lease in it again, string by string, with the serializer's reference tracking.
/// </summary>
internal static class LeaseTableCodec
{
    private const byte Version = 1;
    private const int HeaderSize = 1 + sizeof(int);

    /// <summary>One lease's bytes: id, holder, weight, TTL, expiry, grant time, request id (strings UTF-8, length-prefixed).</summary>
    public static byte[] Encode(PersistedLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var size = StringSize(lease.LeaseId) + StringSize(lease.Holder) + sizeof(int) + 3 * sizeof(long) + StringSize(lease.RequestId);
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        WriteString(ref span, lease.LeaseId);
        WriteString(ref span, lease.Holder);
        BinaryPrimitives.WriteInt32LittleEndian(span, lease.Weight);
        span = span[sizeof(int)..];
        WriteInt64(ref span, lease.Ttl.Ticks);
        WriteInt64(ref span, lease.ExpiresAt.UtcTicks);
        WriteInt64(ref span, lease.GrantedAt.UtcTicks);
        WriteString(ref span, lease.RequestId);
        return bytes;
    }

    /// <summary>The table of <paramref name="leases"/> (each from <see cref="Encode"/>).</summary>
    public static byte[] Join(IReadOnlyCollection<byte[]> leases)
    {
        var size = HeaderSize;
        foreach (var lease in leases)
        {
            size += lease.Length;
        }

        var table = new byte[size];
        table[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(table.AsSpan(1), leases.Count);
        var at = HeaderSize;
        foreach (var lease in leases)
        {
            lease.CopyTo(table, at);
            at += lease.Length;
        }

        return table;
    }

    /// <summary>The leases of a table written by <see cref="Join"/>; a table it cannot read throws <see cref="InvalidDataException"/>.</summary>
    public static List<PersistedLease> Decode(ReadOnlySpan<byte> table)
    {
        try
        {
            if (table.Length < HeaderSize || table[0] != Version)
            {
                throw new InvalidDataException($"Unknown lease table format (version {(table.Length > 0 ? table[0] : -1)}).");
            }

            var count = BinaryPrimitives.ReadInt32LittleEndian(table[1..]);
            var span = table[HeaderSize..];
            var leases = new List<PersistedLease>(count);
            for (var i = 0; i < count; i++)
            {
                var leaseId = ReadString(ref span) ?? throw new InvalidDataException("A lease without an id.");
                var holder = ReadString(ref span) ?? throw new InvalidDataException("A lease without a holder.");
                var weight = BinaryPrimitives.ReadInt32LittleEndian(span);
                span = span[sizeof(int)..];
                var ttl = TimeSpan.FromTicks(ReadInt64(ref span));
                var expiresAt = new DateTimeOffset(ReadInt64(ref span), TimeSpan.Zero);
                var grantedAt = new DateTimeOffset(ReadInt64(ref span), TimeSpan.Zero);
                leases.Add(new PersistedLease(leaseId, holder, weight, ttl, expiresAt, grantedAt, ReadString(ref span)));
            }

            return span.IsEmpty ? leases : throw new InvalidDataException("Bytes left after the last lease.");
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new InvalidDataException("The lease table ends inside a lease.", ex);
        }
    }

    private static int StringSize(string? value) => sizeof(int) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    private static void WriteString(ref Span<byte> span, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, -1);
            span = span[sizeof(int)..];
            return;
        }

        var length = Encoding.UTF8.GetBytes(value, span[sizeof(int)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        span = span[(sizeof(int) + length)..];
    }

    private static string? ReadString(ref ReadOnlySpan<byte> span)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(span);
        span = span[sizeof(int)..];
        if (length < 0)
        {
            return null;
        }

        var value = Encoding.UTF8.GetString(span[..length]);
        span = span[length..];
        return value;
    }

    private static void WriteInt64(ref Span<byte> span, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span, value);
        span = span[sizeof(long)..];
    }

    private static long ReadInt64(ref ReadOnlySpan<byte> span)
    {
        var value = BinaryPrimitives.ReadInt64LittleEndian(span);
        span = span[sizeof(long)..];
        return value;
    }
}
