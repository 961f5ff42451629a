using Floodgate.Catalog;
using Floodgate.Grains.WarmUp;
using Microsoft.Extensions.Logging;

namespace Floodgate.Grains.Catalog;

/// <summary>
/// One catalog per kind (<see cref="CatalogKeys"/>): limiters and breakers register their names as they activate. The set
/// is stored (a write only when it changes), so the list survives the catalog's own deactivation; a registration lost
/// with a silo is made again by the next activation of that limiter or breaker. The start-up warm-up's limiter and breaker
/// (<see cref="WarmUpNames"/>) are never listed.
/// </summary>
internal sealed partial class CatalogGrain(
    [PersistentState("catalog")] IPersistentState<CatalogRecord> record,
    TimeProvider time,
    ILogger<CatalogGrain> logger) : Grain, ICatalogGrain
{
    private readonly NameCatalog _names = new(CatalogConstants.Capacity);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _names.Restore(record.State.Entries);
        return Task.CompletedTask;
    }

    public async Task RegisterAsync(string name)
    {
        if (WarmUpNames.IsWarmUp(name) || !_names.Register(name, time.GetUtcNow()))
        {
            return;
        }

        // Not reentrant: one write at a time. A failed write leaves the name in memory and is retried with the next change.
        record.State.Entries = [.. _names.Entries];
        try
        {
            await record.WriteStateAsync();
        }
        catch (Exception ex)
        {
            LogWriteFailed(ex, this.GetPrimaryKeyString());
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult(_names.Names);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catalog {Catalog} could not be stored; it is kept in memory and written with the next new name")]
    private partial void LogWriteFailed(Exception exception, string catalog);
}
