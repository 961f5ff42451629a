using Floodgate.Batches;
using Floodgate.Grains.Batches;
using Floodgate.Grains.Batches.Chunks;
using Orleans.Storage;

namespace Floodgate.Tests.Batches;

/// <summary>Writes batches straight into storage, in the batch grain's own format (its record and chunk records).</summary>
public static class StoredBatches
{
    public static string Result(int position) => $"{{\"p\":{position}}}";

    /// <summary>A finished batch of <paramref name="total"/> succeeded items, as its grain would have left it.</summary>
    public static async Task WriteFinishedAsync(IGrainStorage storage, string batchId, int total, int chunkSize)
    {
        var grainId = GrainId.Create("batch", batchId);
        var chunks = new ChunkStorage(storage, grainId);
        for (var chunk = 0; chunk * chunkSize < total; chunk++)
        {
            var start = chunk * chunkSize;
            var outcomes = new ItemOutcome?[chunkSize];
            for (var i = 0; i < chunkSize && start + i < total; i++)
            {
                outcomes[i] = ItemOutcome.Succeeded(start + i, Result(start + i), 1);
            }

            await chunks.WriteOutcomesAsync(chunk, outcomes, etag: null);
        }

        var now = DateTimeOffset.UtcNow;
        var record = new BatchRecord
        {
            Definition = new BatchDefinition { Processor = "echo", Limiter = "stored" },
            SubmittedAt = now.AddMinutes(-1),
            FinishedAt = now,
            ChunkSize = chunkSize,
            UploadId = "stored",
            Received = total,
            Sealed = true,
            DurablePrefix = total,
            PrefixSucceeded = total,
            DispatchReservation = total,
            LastReceivedAt = now,
        };
        await storage.WriteStateAsync("batch-state", grainId, new GrainState<BatchRecord>(record));
    }
}
