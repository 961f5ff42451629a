namespace Floodgate.Simulator;

/// <summary>
/// A snapshot of the simulator's counters since it started or since the last reset.
/// Every request that passed authentication is counted in <see cref="TotalRequests"/> and then, once answered,
/// in exactly one of <see cref="Completed"/>, <see cref="RateLimited"/>, <see cref="ServerErrors"/> or
/// <see cref="ClientErrors"/>; requests abandoned by the client before an answer was produced are counted only in
/// <see cref="TotalRequests"/>.
/// </summary>
/// <param name="TotalRequests">Chat requests that passed authentication (whatever their outcome).</param>
/// <param name="Completed">Chat requests answered with <c>200</c>.</param>
/// <param name="RateLimited">Chat requests answered with <c>429</c> (concurrency limit, requests-per-minute limit or a <c>[fail:429]</c> trigger).</param>
/// <param name="ServerErrors">Chat requests answered with a <c>5xx</c> status (<c>ErrorRate</c>, fault triggers, shutdown).</param>
/// <param name="ClientErrors">Chat requests answered with a <c>4xx</c> status other than <c>429</c> (invalid body, fault triggers).</param>
/// <param name="Unauthorized">Chat requests rejected with <c>401</c> because the API key was missing or wrong; not part of <see cref="TotalRequests"/>.</param>
/// <param name="CurrentConcurrent">Chat requests being handled right now.</param>
/// <param name="MaxConcurrent">
/// The largest number of chat requests that were being handled at the same moment, counting requests that were then
/// rejected with <c>429</c>, so a client that sends more than the limit is always visible. A request counts from the
/// moment it reaches the chat endpoint until just before its response is sent, a sub-interval of what the client
/// observes, so this value never overstates the client's concurrency.
/// </param>
public sealed record SimulatorStats(
    long TotalRequests,
    long Completed,
    long RateLimited,
    long ServerErrors,
    long ClientErrors,
    long Unauthorized,
    int CurrentConcurrent,
    int MaxConcurrent);

/// <summary>Model tokens (prompt + completion) of accepted requests, as the simulator counted them.</summary>
/// <param name="TokensUsed">Tokens of every accepted request since the start or the last reset.</param>
/// <param name="MaxTokensPerMinute">
/// The most tokens any sliding 60-second window held (a request's tokens count from its acceptance), so a client that
/// passes a tokens-per-minute budget is always visible, whether or not <see cref="SimulatorOptions.TokensPerMinute"/> is set.
/// </param>
public sealed record SimulatorTokenStats(long TokensUsed, long MaxTokensPerMinute);
