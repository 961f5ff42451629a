using Floodgate.Batches;

namespace Floodgate.Grains.Batches.Chunks;

/// <summary>One chunk of a batch's items as stored: written once, when it arrives.</summary>
[GenerateSerializer, Alias("Floodgate.ItemChunk")]
public sealed class ItemChunk
{
    /// <summary>The items (JSON texts) of positions <c>chunk × chunkSize</c> onward.</summary>
    [Id(0)] public List<string> Items { get; set; } = [];

    /// <summary>The last chunk of the batch: no item follows it.</summary>
    [Id(1)] public bool IsLast { get; set; }
}

/// <summary>
/// One chunk of a batch's outcomes as stored: slot <c>i</c> holds the outcome of position <c>chunk × chunkSize + i</c>,
/// or null while it has none. Rewritten (whole, ETag-checked) whenever outcomes of its positions arrive.
/// </summary>
[GenerateSerializer, Alias("Floodgate.OutcomeChunk")]
public sealed class OutcomeChunk
{
    [Id(0)] public ItemOutcome?[] Outcomes { get; set; } = [];
}
