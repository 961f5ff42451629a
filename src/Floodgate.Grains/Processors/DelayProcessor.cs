using System.Globalization;
using System.Text.Json;

namespace Floodgate.Grains.Processors;

/// <summary>
/// Waits, then echoes the item. The wait is the batch option <c>delayMs</c> (default 100) or the item's own
/// <c>delayMs</c> field. An item object with <c>"fail": "transient"</c> or <c>"fail": "permanent"</c> fails that way,
/// so tests can exercise retries and error isolation without an upstream.
/// </summary>
public sealed class DelayProcessor(TimeProvider time) : IItemProcessor
{
    public const string ProcessorName = "delay";
    public const int DefaultDelayMs = 100;

    public string Name => ProcessorName;

    public IReadOnlyList<string> ValidateOptions(IReadOnlyDictionary<string, string> options) =>
        options.TryGetValue("delayMs", out var text) && !(int.TryParse(text, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
            ? [$"Processor option delayMs must be a non-negative whole number of milliseconds (got '{text}')."]
            : [];

    public async Task<JsonElement> ProcessAsync(ItemContext context, JsonElement item, CancellationToken cancellationToken)
    {
        var delayMs = DefaultDelayMs;
        if (context.Options.TryGetValue("delayMs", out var text))
        {
            delayMs = int.Parse(text, CultureInfo.InvariantCulture);
        }

        string? fail = null;
        if (item.ValueKind == JsonValueKind.Object)
        {
            if (item.TryGetProperty("delayMs", out var own) && own.TryGetInt32(out var ownMs))
            {
                delayMs = ownMs;
            }

            if (item.TryGetProperty("fail", out var failValue))
            {
                fail = failValue.GetString();
            }
        }

        await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, delayMs)), time, cancellationToken);
        return fail switch
        {
            "transient" => throw new UpstreamException("Simulated transient failure.", 503, isTransient: true),
            "permanent" => throw new UpstreamException("Simulated permanent failure.", 400, isTransient: false),
            _ => item.Clone(),
        };
    }
}
