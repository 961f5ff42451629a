using System.Text.Json;

namespace Floodgate.Grains.Processors;

/// <summary>What a processor knows about the item it is processing.</summary>
/// <param name="BatchId">The batch the item belongs to.</param>
/// <param name="Position">The item's index in the batch.</param>
/// <param name="Attempt">1 for the first attempt, 2 for the first retry, …</param>
/// <param name="Options">The batch's processor options (never secrets).</param>
public sealed record ItemContext(string BatchId, int Position, int Attempt, IReadOnlyDictionary<string, string> Options)
{
    /// <summary>Sent upstream so that a call repeated after a crash can be recognised.</summary>
    public string IdempotencyKey => $"{BatchId}:{Position}";
}

/// <summary>
/// Turns one item into one result, usually with one upstream call. Registered by <see cref="Name"/> in the silo's DI;
/// a batch names the processor it wants. Throw <see cref="UpstreamException"/> to say how a failure should be treated.
/// </summary>
public interface IItemProcessor
{
    /// <summary>The name batches use to pick this processor.</summary>
    string Name { get; }

    /// <summary>Processes one item. Must honour <paramref name="cancellationToken"/> (attempt timeout, cancel).</summary>
    Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken);

    /// <summary>Problems with a batch's processor options, checked at submission; empty when they are fine.</summary>
    IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> options) => [];

    /// <summary>
    /// Why <paramref name="item"/> cannot be processed with these (valid) options — e.g. a template field the item lacks —
    /// or null. Checked for every item at submission, before anything runs.
    /// </summary>
    string? ValidateItem(IReadOnlyDictionary<string, string> options, JsonElement item) => null;
}
