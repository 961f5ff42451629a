using Orleans.Serialization;
using Orleans.Storage;

namespace Floodgate.Grains.Hosting;

/// <summary>
/// Grain state in the Orleans binary format, byte for byte what <see cref="OrleansGrainStorageSerializer"/> writes and
/// reads (so stored state moves freely between the two), written into a pooled buffer and copied once into an array of
/// the exact size. The stock serializer grows a fresh buffer from 256 bytes by doubling on every write: for a limiter's
/// lease table, written on every group commit of grants, the copies cost as much as the serialization itself.
/// </summary>
internal sealed class GrainStateSerializer(Serializer serializer) : IGrainStorageStreamingSerializer
{
    private readonly OrleansGrainStorageSerializer _stock = new(serializer);

    public BinaryData Serialize<T>(T? input) => new(serializer.SerializeToArray(input));

    public T? Deserialize<T>(BinaryData input) => _stock.Deserialize<T>(input);

    public ValueTask SerializeAsync<T>(T? value, Stream destination, CancellationToken cancellationToken = default) =>
        _stock.SerializeAsync(value, destination, cancellationToken);

    public ValueTask<T?> DeserializeAsync<T>(Stream input, CancellationToken cancellationToken = default) =>
        _stock.DeserializeAsync<T>(input, cancellationToken);
}
