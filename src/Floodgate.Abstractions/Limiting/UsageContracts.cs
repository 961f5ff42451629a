namespace Floodgate.Limiting;

/// <summary>How an upstream call admitted by a limiter ended, as its caller saw it.</summary>
public enum UsageOutcome
{
    /// <summary>The upstream answered (whatever the status) without pushing back.</summary>
    Completed = 0,

    /// <summary>The upstream answered 429: the account is over its provider-side limit.</summary>
    UpstreamRateLimited = 1,

    /// <summary>No permit in time: the caller was answered 429 by Floodgate and the upstream was never called.</summary>
    Rejected = 2,
}

/// <summary>What the upstream said about its own limits (its <c>Retry-After</c> and <c>x-ratelimit-*</c> headers).</summary>
/// <param name="RetryAfter">How long the upstream asked callers to wait.</param>
/// <param name="RemainingRequests">Requests left in the provider's current window (<c>x-ratelimit-remaining-requests</c>).</param>
/// <param name="RequestsResetIn">When that window resets (<c>x-ratelimit-reset-requests</c>).</param>
/// <param name="RemainingTokens">Tokens left in the provider's current window (<c>x-ratelimit-remaining-tokens</c>).</param>
/// <param name="TokensResetIn">When that window resets (<c>x-ratelimit-reset-tokens</c>).</param>
[GenerateSerializer, Immutable, Alias("Floodgate.UpstreamSignal")]
public sealed record UpstreamSignal(
    [property: Id(0)] TimeSpan? RetryAfter = null,
    [property: Id(1)] long? RemainingRequests = null,
    [property: Id(2)] TimeSpan? RequestsResetIn = null,
    [property: Id(3)] long? RemainingTokens = null,
    [property: Id(4)] TimeSpan? TokensResetIn = null)
{
    /// <summary>The wait the upstream asks of everyone: its <c>Retry-After</c>, or the reset of a window it says is used up.</summary>
    public TimeSpan? RequiredPause()
    {
        TimeSpan? pause = RetryAfter;
        if (RemainingRequests <= 0 && RequestsResetIn is { } requests && (pause is null || requests > pause))
        {
            pause = requests;
        }

        if (RemainingTokens <= 0 && TokensResetIn is { } tokens && (pause is null || tokens > pause))
        {
            pause = tokens;
        }

        return pause;
    }
}

/// <summary>The end of one upstream call admitted by a limiter (or of one that was refused), reported by its caller.</summary>
/// <param name="Holder">Who made the call (the lease's holder; a gateway tenant).</param>
/// <param name="LeaseId">The lease the call held; null when it was refused.</param>
/// <param name="Outcome">How the call ended.</param>
/// <param name="Tokens">The tokens the upstream says the call used (prompt + completion); null when it did not say.</param>
/// <param name="Signal">The upstream's rate-limit headers, when it sent any.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.UsageReport")]
public sealed record UsageReport(
    [property: Id(0)] string Holder,
    [property: Id(1)] string? LeaseId,
    [property: Id(2)] UsageOutcome Outcome,
    [property: Id(3)] int? Tokens = null,
    [property: Id(4)] UpstreamSignal? Signal = null);

/// <summary>Upstream calls one holder reported to a limiter since its activation.</summary>
/// <param name="Holder">The holder (a gateway tenant).</param>
/// <param name="Requests">Calls that reached the upstream.</param>
/// <param name="Tokens">Tokens those calls used, as the upstream reported them.</param>
/// <param name="Rejected">Calls refused with 429 by Floodgate (no permit in time).</param>
/// <param name="UpstreamRateLimited">Calls the upstream answered with 429.</param>
[GenerateSerializer, Immutable, Alias("Floodgate.HolderUsage")]
public sealed record HolderUsage(
    [property: Id(0)] string Holder,
    [property: Id(1)] long Requests,
    [property: Id(2)] long Tokens,
    [property: Id(3)] long Rejected,
    [property: Id(4)] long UpstreamRateLimited);
