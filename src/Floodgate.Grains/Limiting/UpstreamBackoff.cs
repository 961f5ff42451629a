using Floodgate.Limiting;

namespace Floodgate.Grains.Limiting;

/// <summary>
/// The whole cluster's answer to an upstream that pushes back (seed 003's adaptive batch size, for the account rather
/// than one batch). A rate-limited answer pauses every grant until the upstream's <c>Retry-After</c> (or the reset of the
/// window its <c>x-ratelimit-*</c> headers say is used up) and halves the concurrency granted — once per generation of
/// calls: answers to calls granted before the last halving carry old news. Each <see cref="IncreaseAfterSuccesses"/>
/// calls that then complete without pushback raise it by one, until the configured limit is back.
/// </summary>
internal sealed class UpstreamBackoff(TimeProvider time)
{
    private int _successes;
    private DateTimeOffset _decreasedAt = DateTimeOffset.MinValue;

    /// <summary>Calls without pushback per step back up.</summary>
    public int IncreaseAfterSuccesses { get; set; } = LimiterConstants.BackoffIncreaseAfterSuccesses;

    /// <summary>Longest pause taken from an upstream's answer (a bogus <c>Retry-After</c> must not stop an account for hours).</summary>
    public TimeSpan MaxPause { get; set; } = LimiterConstants.BackoffMaxPause;

    /// <summary>Pause when the upstream answered 429 without saying how long to wait.</summary>
    public TimeSpan DefaultPause { get; set; } = LimiterConstants.BackoffDefaultPause;

    /// <summary>The reduced concurrency while backing off; null when the configured limit applies.</summary>
    public int? Limit { get; private set; }

    /// <summary>No grant before this moment (the upstream asked everyone to wait).</summary>
    public DateTimeOffset PausedUntil { get; private set; } = DateTimeOffset.MinValue;

    public bool IsPaused => PausedUntil > time.GetUtcNow();

    /// <summary>The concurrency granted up to under <paramref name="configured"/>.</summary>
    public int Effective(int configured) => Limit is { } limit && limit < configured ? limit : configured;

    /// <summary>
    /// The upstream answered a call granted at <paramref name="grantedAt"/> (null: unknown, e.g. its lease already
    /// expired). Returns true when the pause or the limit changed.
    /// </summary>
    public bool OnAnswer(UsageOutcome outcome, UpstreamSignal? signal, DateTimeOffset? grantedAt, int configured, int inUse)
    {
        var changed = Pause(outcome == UsageOutcome.UpstreamRateLimited ? signal?.RequiredPause() ?? DefaultPause : signal?.RequiredPause());
        if (outcome == UsageOutcome.UpstreamRateLimited)
        {
            _successes = 0;
            if (grantedAt is null || grantedAt > _decreasedAt)
            {
                // Halve what was really in flight: with a high limit and few calls, halving the limit would change nothing.
                var current = Math.Min(Effective(configured), Math.Max(1, inUse));
                Limit = Math.Max(1, current / 2);
                _decreasedAt = time.GetUtcNow();
                changed = true;
            }

            return changed;
        }

        if (outcome == UsageOutcome.Completed && Limit is { } limit && ++_successes >= IncreaseAfterSuccesses)
        {
            _successes = 0;
            Limit = limit + 1 >= configured ? null : limit + 1;
            changed = true;
        }

        return changed;
    }

    /// <summary>Takes over a predecessor's state, so a reactivation keeps backing off.</summary>
    public void Restore(int? limit, DateTimeOffset? pausedUntil)
    {
        Limit = limit is >= 1 ? limit : null;
        PausedUntil = pausedUntil ?? DateTimeOffset.MinValue;
        _decreasedAt = time.GetUtcNow();
    }

    private bool Pause(TimeSpan? pause)
    {
        if (pause is not { } wait || wait <= TimeSpan.Zero)
        {
            return false;
        }

        var until = time.GetUtcNow() + (wait > MaxPause ? MaxPause : wait);
        if (until <= PausedUntil)
        {
            return false;
        }

        PausedUntil = until;
        return true;
    }
}
