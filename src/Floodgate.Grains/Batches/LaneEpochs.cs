using Floodgate.Grains.Items;

namespace Floodgate.Grains.Batches;

/// <summary>
/// Which item grain a batch's positions go to (<see cref="ItemLanes"/>), lane by lane. A lane activation on a draining
/// silo refuses new starts but stays until its runs have finished, so a refused start moves its lane to the next epoch:
/// a new grain key (<c>{batchId}/{lane}.{epoch}</c>) whose activation is placed anew, while the old one finishes what
/// it runs. A position may run under any epoch of its lane up to the current one, so probes and cancels ask them all
/// (newest first); the epochs are persisted with the batch's record so a successor asks the same grains.
/// Not thread-safe: used on the batch's activation only.
/// </summary>
internal sealed class LaneEpochs
{
    private readonly int[] _epochs = new int[ItemLanes.Count];
    private int _version;
    private int _writtenVersion;

    /// <summary>An epoch moved since the last <see cref="Snapshot"/> whose write succeeded.</summary>
    public bool Unwritten => _version != _writtenVersion;

    /// <summary>The current epoch of <paramref name="position"/>'s lane (what a start uses).</summary>
    public int Current(int position) => _epochs[ItemLanes.Of(position)];

    /// <summary>The key of <paramref name="position"/>'s lane at <paramref name="epoch"/>.</summary>
    public static string KeyOf(string batchId, int position, int epoch) =>
        epoch == 0 ? ItemLanes.KeyOf(batchId, position) : $"{ItemLanes.KeyOf(batchId, position)}.{epoch}";

    /// <summary>Every epoch <paramref name="position"/> may run under, newest first.</summary>
    public IEnumerable<int> Candidates(int position)
    {
        for (var epoch = Current(position); epoch >= 0; epoch--)
        {
            yield return epoch;
        }
    }

    /// <summary>
    /// A start of <paramref name="position"/> under <paramref name="epoch"/> was refused (its silo drains): later starts of
    /// the lane go to the next epoch. Returns whether the lane moved (not when an earlier refusal moved it already).
    /// </summary>
    public bool Refused(int position, int epoch)
    {
        var lane = ItemLanes.Of(position);
        if (_epochs[lane] != epoch)
        {
            return false;
        }

        _epochs[lane]++;
        _version++;
        return true;
    }

    /// <summary>The epochs to persist (null while every lane is at epoch 0), and their version for <see cref="Written"/>.</summary>
    public (int[]? Epochs, int Version) Snapshot() => (_epochs.Any(e => e != 0) ? (int[])_epochs.Clone() : null, _version);

    /// <summary>The write of the <see cref="Snapshot"/> of <paramref name="version"/> succeeded.</summary>
    public void Written(int version) => _writtenVersion = Math.Max(_writtenVersion, version);

    /// <summary>Takes the epochs an earlier activation persisted.</summary>
    public void Restore(int[]? epochs)
    {
        if (epochs is null)
        {
            return;
        }

        for (var lane = 0; lane < Math.Min(epochs.Length, _epochs.Length); lane++)
        {
            _epochs[lane] = Math.Max(_epochs[lane], epochs[lane]);
        }
    }
}
