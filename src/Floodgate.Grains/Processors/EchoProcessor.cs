using System.Text.Json;

namespace Floodgate.Grains.Processors;

/// <summary>Returns the item unchanged. For tests and for measuring Floodgate's own overhead.</summary>
public sealed class EchoProcessor : IItemProcessor
{
    public const string ProcessorName = "echo";

    public string Name => ProcessorName;

    public Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken) =>
        Task.FromResult(item.Clone());
}
