namespace Floodgate.Validation;

/// <summary>
/// Thrown when a request is valid but the current state of what it names does not allow it (a retry of a batch that
/// is still running). Nothing was changed.
/// </summary>
[GenerateSerializer, Alias("Floodgate.FloodgateConflictException")]
public sealed class FloodgateConflictException(string message) : Exception(message);
