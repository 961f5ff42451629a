namespace Floodgate.Client.Http;

/// <summary>Where and how <see cref="FloodgateHttpClient"/> reaches a silo's HTTP API.</summary>
public sealed class FloodgateHttpClientOptions
{
    /// <summary>Header the API key travels in.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>The silo's HTTP address, e.g. <c>https://floodgate.internal:5080/</c>; null uses the HttpClient's BaseAddress.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The API key (client or admin); null sends none (a silo without client keys accepts that).</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one long poll for progress waits on the silo. Default 10 s.</summary>
    public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Least time between two progress updates of <see cref="Batches.BatchHandle.WatchAsync"/>. Default 250 ms.</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Every problem with the options (each a sentence that names the option); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (BaseAddress is { } address && (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https")))
        {
            errors.Add($"The Floodgate URL '{address}' must be an absolute http:// or https:// address.");
        }

        // The key travels in a header: printable ASCII without spaces, as the silo requires of configured keys.
        if (ApiKey is { } key && (key.Length == 0 || key.Any(c => c is <= ' ' or > '~')))
        {
            errors.Add("The API key must be non-empty printable ASCII without spaces.");
        }

        if (PollWait <= TimeSpan.Zero)
        {
            errors.Add("PollWait must be positive.");
        }

        if (WatchInterval < TimeSpan.Zero)
        {
            errors.Add("WatchInterval must not be negative.");
        }

        return errors;
    }
}
