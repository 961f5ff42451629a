namespace Floodgate.Cli;

/// <summary>The process exit codes of <c>floodgate</c>; scripts rely on them, so they never change meaning.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked (a watched batch completed, even if some items failed).</summary>
    public const int Ok = 0;

    /// <summary>A watched or awaited batch ended Cancelled, or the command failed for an unexpected reason.</summary>
    public const int Failed = 1;

    /// <summary>Bad input or usage: unknown option, unreadable file, invalid batch spec, malformed gateway. Nothing was created.</summary>
    public const int BadInput = 2;

    /// <summary>The cluster could not be reached (no gateway answered, or the connection was lost).</summary>
    public const int Unreachable = 3;

    /// <summary>The named batch (or other resource) does not exist.</summary>
    public const int NotFound = 4;

    /// <summary>HTTP mode: the silo wants an API key and got none, or one it does not know (HTTP 401). Nothing was changed.</summary>
    public const int Unauthorized = 5;

    /// <summary>HTTP mode: the key is valid but lacks the role, e.g. a client key for <c>limiter set</c> (HTTP 403). Nothing was changed.</summary>
    public const int Forbidden = 6;

    /// <summary>The request was valid but the batch's state does not allow it (a retry of a running batch). Nothing changed.</summary>
    public const int Conflict = 7;

    /// <summary>Interrupted with Ctrl+C (128 + SIGINT). A running batch keeps running on the cluster.</summary>
    public const int Interrupted = 130;
}
