using System.Collections.Concurrent;

namespace Floodgate.Simulator;

/// <summary>
/// Thread-safe counters and limit state shared by all requests of one simulator instance.
/// </summary>
internal sealed class SimulatorState
{
    /// <summary>Length of the sliding window of <see cref="SimulatorOptions.RequestsPerMinute"/>.</summary>
    internal static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    private readonly Queue<DateTimeOffset> _acceptedTimes = new();
    private readonly Queue<(DateTimeOffset At, int Tokens)> _tokenTimes = new();
    private readonly Lock _tokenLock = new();
    private long _tokensInWindow;
    private long _tokensUsed;
    private long _maxTokensInWindow;
    private readonly Lock _windowLock = new();
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelCounter> _models = new(StringComparer.Ordinal);

    private long _totalRequests;
    private long _completed;
    private long _rateLimited;
    private long _serverErrors;
    private long _clientErrors;
    private long _unauthorized;
    private long _responseIds;
    private int _inFlight;
    private int _maxInFlight;

    public SimulatorState(SimulatorOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Options = options;
        TimeProvider = timeProvider;
        _random = new Random(options.Seed);
    }

    /// <summary>The (validated, private copy of the) options this instance enforces.</summary>
    public SimulatorOptions Options { get; }

    /// <summary>Clock used for the requests-per-minute window, latency and timestamps.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Marks a request as in flight and counts it.</summary>
    /// <returns>The number of requests in flight including this one.</returns>
    public int EnterRequest()
    {
        int inFlight = Interlocked.Increment(ref _inFlight);
        RaiseMax(inFlight);
        Interlocked.Increment(ref _totalRequests);
        return inFlight;
    }

    /// <summary>Marks a request entered with <see cref="EnterRequest"/> as no longer in flight.</summary>
    public void ExitRequest() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Counts the status code a chat request is answered with.</summary>
    public void RecordOutcome(int statusCode)
    {
        if (statusCode is >= 200 and < 300)
        {
            Interlocked.Increment(ref _completed);
        }
        else if (statusCode == 429)
        {
            Interlocked.Increment(ref _rateLimited);
        }
        else if (statusCode >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
        }
        else if (statusCode >= 400)
        {
            Interlocked.Increment(ref _clientErrors);
        }
    }

    /// <summary>Counts a request rejected for a missing or wrong API key.</summary>
    public void RecordUnauthorized() => Interlocked.Increment(ref _unauthorized);

    /// <summary>
    /// Takes a slot of the sliding requests-per-minute window if one is free.
    /// </summary>
    /// <returns><see langword="false"/> when the window is full and the request must be rejected.</returns>
    public bool TryAcquireRateSlot()
    {
        int limit = Options.RequestsPerMinute;
        if (limit <= 0)
        {
            return true;
        }

        DateTimeOffset now = TimeProvider.GetUtcNow();
        lock (_windowLock)
        {
            while (_acceptedTimes.Count > 0 && now - _acceptedTimes.Peek() >= RateWindow)
            {
                _acceptedTimes.Dequeue();
            }

            if (_acceptedTimes.Count >= limit)
            {
                return false;
            }

            _acceptedTimes.Enqueue(now);
            return true;
        }
    }

    /// <summary>
    /// Takes <paramref name="tokens"/> of the sliding tokens-per-minute window if they fit (always without a limit), and
    /// records the most tokens any 60-second window held.
    /// </summary>
    /// <param name="tokens">The request's prompt and completion tokens.</param>
    /// <param name="resetIn">When the window is full: time until its oldest request leaves it.</param>
    /// <returns><see langword="false"/> when the request must be rejected.</returns>
    public bool TryAcquireTokens(int tokens, out TimeSpan resetIn)
    {
        resetIn = TimeSpan.Zero;
        int limit = Options.TokensPerMinute;
        DateTimeOffset now = TimeProvider.GetUtcNow();
        lock (_tokenLock)
        {
            while (_tokenTimes.Count > 0 && now - _tokenTimes.Peek().At >= RateWindow)
            {
                _tokensInWindow -= _tokenTimes.Dequeue().Tokens;
            }

            if (limit > 0 && _tokensInWindow + tokens > limit)
            {
                resetIn = _tokenTimes.Count > 0 ? _tokenTimes.Peek().At + RateWindow - now : RateWindow;
                return false;
            }

            _tokenTimes.Enqueue((now, tokens));
            _tokensInWindow += tokens;
            _tokensUsed += tokens;
            _maxTokensInWindow = Math.Max(_maxTokensInWindow, _tokensInWindow);
            return true;
        }
    }

    /// <summary>Tokens of accepted requests in total and in the fullest 60-second window since the last reset.</summary>
    public SimulatorTokenStats GetTokenStats()
    {
        lock (_tokenLock)
        {
            return new SimulatorTokenStats(_tokensUsed, _maxTokensInWindow);
        }
    }

    /// <summary>Counts one more attempt for a <c>[fail-first:K:NNN]</c> key.</summary>
    /// <returns>The 1-based number of this attempt.</returns>
    public int NextAttempt(string key) =>
        _attempts.AddOrUpdate(key, 1, static (_, n) => n == int.MaxValue ? n : n + 1);

    /// <summary>The simulated processing time of the next accepted request, in milliseconds.</summary>
    public long NextLatencyMs()
    {
        long latency = Options.LatencyMs;
        int jitter = Options.LatencyJitterMs;
        if (jitter > 0)
        {
            lock (_randomLock)
            {
                latency += _random.NextInt64(0, (long)jitter + 1);
            }
        }

        return latency;
    }

    /// <summary>Draws whether the next request fails because of <see cref="SimulatorOptions.ErrorRate"/>.</summary>
    public bool NextIsRandomError()
    {
        double rate = Options.ErrorRate;
        if (rate <= 0)
        {
            return false;
        }

        lock (_randomLock)
        {
            return _random.NextDouble() < rate;
        }
    }

    /// <summary>A process-unique number for the next <c>chatcmpl-sim-&lt;n&gt;</c> id (not reset by <see cref="ResetStats"/>).</summary>
    public long NextResponseId() => Interlocked.Increment(ref _responseIds);

    /// <summary>Counts a parsed request as in flight for its model until the returned scope is disposed.</summary>
    public ModelScope EnterModel(string model)
    {
        var counter = _models.GetOrAdd(model, _ => new ModelCounter());
        counter.Enter();
        return new ModelScope(counter);
    }

    /// <summary>The most requests for <paramref name="model"/> handled at once since the last reset.</summary>
    public int MaxConcurrentFor(string model) => _models.TryGetValue(model, out var counter) ? counter.Max : 0;

    /// <summary>A snapshot of the counters.</summary>
    public SimulatorStats GetStats() => new(
        TotalRequests: Interlocked.Read(ref _totalRequests),
        Completed: Interlocked.Read(ref _completed),
        RateLimited: Interlocked.Read(ref _rateLimited),
        ServerErrors: Interlocked.Read(ref _serverErrors),
        ClientErrors: Interlocked.Read(ref _clientErrors),
        Unauthorized: Interlocked.Read(ref _unauthorized),
        CurrentConcurrent: Volatile.Read(ref _inFlight),
        MaxConcurrent: Volatile.Read(ref _maxInFlight));

    /// <summary>
    /// Zeroes all counters. <see cref="SimulatorStats.CurrentConcurrent"/> keeps the true in-flight count, and
    /// <see cref="SimulatorStats.MaxConcurrent"/> restarts from it (0 when idle) so it never reads below the current value.
    /// Limit state (the requests-per-minute window and <c>[fail-first]</c> attempt counts) is not affected.
    /// </summary>
    public void ResetStats()
    {
        Interlocked.Exchange(ref _totalRequests, 0);
        Interlocked.Exchange(ref _completed, 0);
        Interlocked.Exchange(ref _rateLimited, 0);
        Interlocked.Exchange(ref _serverErrors, 0);
        Interlocked.Exchange(ref _clientErrors, 0);
        Interlocked.Exchange(ref _unauthorized, 0);
        Interlocked.Exchange(ref _maxInFlight, 0);
        foreach (var counter in _models.Values)
        {
            counter.Reset();
        }

        lock (_tokenLock)
        {
            _tokensUsed = 0;
            _maxTokensInWindow = _tokensInWindow;
        }

        // A request entering concurrently may have raised the max before the exchange above; re-apply the live value.
        RaiseMax(Volatile.Read(ref _inFlight));
    }

    private void RaiseMax(int candidate)
    {
        int observed = Volatile.Read(ref _maxInFlight);
        while (candidate > observed)
        {
            int previous = Interlocked.CompareExchange(ref _maxInFlight, candidate, observed);
            if (previous == observed)
            {
                return;
            }

            observed = previous;
        }
    }
}

/// <summary>In-flight and maximum in-flight requests of one model.</summary>
internal sealed class ModelCounter
{
    private int _inFlight;
    private int _max;

    public int Max => Volatile.Read(ref _max);

    public void Enter()
    {
        var now = Interlocked.Increment(ref _inFlight);
        int observed;
        while (now > (observed = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, observed) != observed)
        {
        }
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public void Reset() => Interlocked.Exchange(ref _max, Volatile.Read(ref _inFlight));
}

/// <summary>Leaves a model's in-flight count when disposed.</summary>
internal readonly struct ModelScope(ModelCounter counter) : IDisposable
{
    public void Dispose() => counter.Exit();
}
