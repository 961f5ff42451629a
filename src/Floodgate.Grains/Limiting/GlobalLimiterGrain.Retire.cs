using Floodgate.Limiting;
using Microsoft.Extensions.Logging;

namespace Floodgate.Grains.Limiting;

/// <summary>Retirement of an idle limiter (<see cref="ILimiterRetirement"/>).</summary>
internal sealed partial class GlobalLimiterGrain : ILimiterRetirement
{
    public async Task<bool> RetireAsync()
    {
        _ledger.ExpireDue();
        if (_fenced || _ledger.LeaseCount > 0 || _ledger.Waiting > 0)
        {
            return false;
        }

        // From here on nothing may write the record again: the fenced path grants nothing, the sweep skips its write and
        // the deactivation its hand-over. A write already running finishes first (one operation on the state at a time).
        _fenced = true;
        _ledger.StopGranting(() => new LimiterMovedException(Name));
        try
        {
            if (_commit.Writing)
            {
                await _commit.FlushAsync();
            }

            await record.ClearStateAsync();
        }
        finally
        {
            DeactivateOnIdle();
        }

        LogRetired(Name);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Limiter {Limiter} retired: its record is deleted")]
    private partial void LogRetired(string limiter);
}
