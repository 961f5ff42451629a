namespace Floodgate.Client;

/// <summary>How the SDK talks to the cluster.</summary>
public sealed class FloodgateClientOptions
{
    /// <summary>Identifies this client as a lease holder, so the limiter is fair across clients. Default: host and process.</summary>
    public string ClientId { get; set; } = DefaultClientId();

    /// <summary>How long one long-poll for progress or results waits on the silo.</summary>
    public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Least time between two progress updates from <see cref="Batches.BatchHandle.WatchAsync"/>.</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Outcomes fetched per results call.</summary>
    public int ResultPageSize { get; set; } = 500;

    /// <summary>Lease TTL asked for by <see cref="IFloodgateClient.AcquireAsync"/>; renewed at a third of it.</summary>
    public TimeSpan LeaseTtl { get; set; } = FloodgateDefaults.LeaseTtl;

    /// <summary>
    /// How long an acquire keeps retrying (same request id) while its limiter moves between silos — a shutdown, a crash
    /// until failure detection — when its own wait is shorter. Default 30 s.
    /// </summary>
    public TimeSpan FailoverRetryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Validates the options; returns every problem found.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Validation.Names.Check("Client id", ClientId) is { } problem)
        {
            errors.Add(problem);
        }

        if (PollWait <= TimeSpan.Zero)
        {
            errors.Add("PollWait must be positive.");
        }

        if (WatchInterval < TimeSpan.Zero)
        {
            errors.Add("WatchInterval must not be negative.");
        }

        if (ResultPageSize < 1)
        {
            errors.Add("ResultPageSize must be at least 1.");
        }

        if (FailoverRetryTimeout < TimeSpan.Zero)
        {
            errors.Add("FailoverRetryTimeout must not be negative.");
        }

        if (LeaseTtl < TimeSpan.FromSeconds(1))
        {
            errors.Add("LeaseTtl must be at least one second.");
        }

        return errors;
    }

    private static string DefaultClientId()
    {
        var host = new string(Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').ToArray());
        return $"client@{(host.Length == 0 ? "host" : host)}:{Environment.ProcessId}";
    }
}
