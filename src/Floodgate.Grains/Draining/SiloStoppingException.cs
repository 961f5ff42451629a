namespace Floodgate.Grains.Draining;

/// <summary>
/// An item was asked to start on a silo that is draining: it did not start. Its lane's activation goes once its own runs
/// have finished, and the batch starts the item again under the lane's next epoch, a new activation placed anew.
/// </summary>
[GenerateSerializer, Alias("Floodgate.SiloStoppingException")]
public sealed class SiloStoppingException() : Exception("The item's silo is stopping; start it again.");
