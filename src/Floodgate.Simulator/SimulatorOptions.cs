using System.Globalization;

namespace Floodgate.Simulator;

/// <summary>
/// Limits and behaviour of the simulated AI model provider account.
/// Bound from the configuration section <see cref="SectionName"/> when the simulator runs standalone.
/// </summary>
public sealed class SimulatorOptions
{
    /// <summary>The configuration section the standalone simulator binds these options from.</summary>
    public const string SectionName = "Simulator";

    /// <summary>
    /// Maximum number of chat requests the account may have in flight at the same time; <c>0</c> means unlimited.
    /// A request that arrives while this many are already being handled is answered with <c>429</c>.
    /// </summary>
    public int MaxConcurrency { get; set; } = 10;

    /// <summary>
    /// Maximum number of accepted chat requests in any sliding 60-second window; <c>0</c> means unlimited.
    /// A request that would exceed it is answered with <c>429</c>. Requests rejected with <c>429</c> do not use up the window.
    /// </summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>
    /// Maximum number of model tokens (prompt + completion) of accepted requests in any sliding 60-second window;
    /// <c>0</c> means unlimited. A request whose tokens would exceed it is answered with <c>429</c>, <c>Retry-After</c> and
    /// <c>x-ratelimit-remaining-tokens: 0</c> / <c>x-ratelimit-reset-tokens</c>, as OpenAI does.
    /// </summary>
    public int TokensPerMinute { get; set; }

    /// <summary>Pause, in milliseconds, between two chunks of a streamed (<c>stream: true</c>) answer.</summary>
    public int StreamChunkDelayMs { get; set; }

    /// <summary>Simulated processing time, in milliseconds, of an accepted request.</summary>
    public int LatencyMs { get; set; } = 200;

    /// <summary>Extra processing time, in milliseconds, drawn uniformly from <c>[0, LatencyJitterMs]</c> for each accepted request.</summary>
    public int LatencyJitterMs { get; set; }

    /// <summary>Probability in <c>[0, 1]</c> that an accepted request that hit no fault trigger is answered with <c>500</c>.</summary>
    public double ErrorRate { get; set; }

    /// <summary>Seed of the random generator used for <see cref="LatencyJitterMs"/> and <see cref="ErrorRate"/>, so runs are repeatable.</summary>
    public int Seed { get; set; } = 12345;

    /// <summary>
    /// When set (non-empty), chat requests must carry <c>Authorization: Bearer &lt;ApiKey&gt;</c> or they are answered with <c>401</c>.
    /// The key is never logged or echoed in a response.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Value, in seconds, of the <c>Retry-After</c> header sent with every <c>429</c> response.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Checks the options and describes every problem found.</summary>
    /// <returns>One message per invalid option, each naming the option; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        RequireNonNegative(errors, nameof(MaxConcurrency), MaxConcurrency, " (0 = unlimited)");
        RequireNonNegative(errors, nameof(RequestsPerMinute), RequestsPerMinute, " (0 = unlimited)");
        RequireNonNegative(errors, nameof(TokensPerMinute), TokensPerMinute, " (0 = unlimited)");
        RequireNonNegative(errors, nameof(StreamChunkDelayMs), StreamChunkDelayMs, string.Empty);
        RequireNonNegative(errors, nameof(LatencyMs), LatencyMs, string.Empty);
        RequireNonNegative(errors, nameof(LatencyJitterMs), LatencyJitterMs, string.Empty);
        RequireNonNegative(errors, nameof(RetryAfterSeconds), RetryAfterSeconds, string.Empty);

        if (double.IsNaN(ErrorRate) || ErrorRate < 0 || ErrorRate > 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ErrorRate)} must be between 0 and 1, but was {ErrorRate}."));
        }

        if (ApiKey is { Length: > 0 } key && string.IsNullOrWhiteSpace(key))
        {
            errors.Add($"{nameof(ApiKey)} must not consist of white space only (leave it empty to disable authentication).");
        }

        return errors;
    }

    /// <summary>True when <see cref="ApiKey"/> is set and requests must authenticate.</summary>
    internal bool RequiresApiKey => !string.IsNullOrEmpty(ApiKey);

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when the options are invalid.</summary>
    internal void ThrowIfInvalid(string paramName)
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid simulator options: " + string.Join(" ", errors), paramName);
        }
    }

    /// <summary>A copy, so a running simulator is not affected by later changes to the caller's instance.</summary>
    internal SimulatorOptions Clone() => (SimulatorOptions)MemberwiseClone();

    private static void RequireNonNegative(List<string> errors, string name, int value, string hint)
    {
        if (value < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be 0 or greater{hint}, but was {value}."));
        }
    }
}
