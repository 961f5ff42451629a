namespace Floodgate.Grains.Batches;

/// <summary>
/// A batch's effective local limit (seed 003's adaptive batch size, as AIMD): a rate-limited outcome halves it, at most
/// once per window of outcomes that were already in flight; it then grows by one per
/// <c>increaseAfterSuccesses</c> successes, never above the configured limit.
/// </summary>
internal sealed class AdaptiveLimit(int configured, int increaseAfterSuccesses)
{
    private int _successesSinceChange;
    private int _outcomesSinceDecrease = int.MaxValue;

    public int Configured { get; } = configured;

    public int Effective { get; private set; } = configured;

    public void OnOutcome(bool succeeded, bool rateLimited)
    {
        if (_outcomesSinceDecrease != int.MaxValue)
        {
            _outcomesSinceDecrease++;
        }

        if (rateLimited)
        {
            // Outcomes of items dispatched before the last halving carry old news: react once per window.
            if (_outcomesSinceDecrease >= Effective)
            {
                Effective = Math.Max(1, Effective / 2);
                _outcomesSinceDecrease = 0;
                _successesSinceChange = 0;
            }

            return;
        }

        if (succeeded && Effective < Configured && ++_successesSinceChange >= increaseAfterSuccesses)
        {
            Effective++;
            _successesSinceChange = 0;
        }
    }
}
