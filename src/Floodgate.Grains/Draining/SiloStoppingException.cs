namespace Floodgate.Grains.Draining;

/// <summary>
/// An item was asked to start on a silo that is draining: it did not start, and its activation goes away so that the
/// batch's next start places it on another silo.
/// </summary>
[GenerateSerializer, Alias("Floodgate.SiloStoppingException")]
public sealed class SiloStoppingException() : Exception("The item's silo is stopping; start it again.");
