namespace Floodgate.Silo.Hosting.WarmUp;

/// <summary>Where the start-up warm-up is, for the readiness check: the silo is ready once it is no longer running.</summary>
public sealed class WarmUpStatus
{
    private volatile string? _done;

    /// <summary>True until the warm-up finished, failed, timed out or was found switched off.</summary>
    public bool IsRunning => _done is null;

    /// <summary>What happened, in a sentence (health check description); null while it runs.</summary>
    public string? Outcome => _done;

    /// <summary>Records the end of the warm-up; the silo reports ready from now on.</summary>
    public void Finish(string outcome) => _done = outcome;
}
