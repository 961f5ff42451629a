namespace Floodgate.Cli.Connection;

/// <summary>No gateway of the cluster answered; <see cref="Exception.Message"/> is the short reason.</summary>
internal sealed class ClusterUnreachableException(string reason, Exception? inner = null) : Exception(reason, inner);
