using Floodgate.Batches;
using Floodgate.Validation;

namespace Floodgate.Client.Batches;

/// <summary>
/// Sends one batch to its grain: the definition first, then the items in chunks of the size the batch asks for, each
/// validated before it is sent, one chunk on its way while the next is read. The batch starts running as chunks arrive.
/// If the source fails (an invalid item, an I/O error) or the caller cancels, the batch is discarded: nothing of it stays
/// (items of earlier chunks may have run already). A batch that exists already (same id or idempotency key) is
/// returned as it is, and the items are not read.
/// </summary>
internal sealed class BatchUpload(IBatchGrain grain, ClusterCallRetry retry)
{
    public async Task<BatchProgress> SendAsync(
        BatchDefinition definition, IAsyncEnumerable<string> items, int? expectedItems, bool itemsValidated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        await using var source = items.GetAsyncEnumerator(cancellationToken);

        // The first item before anything is created: an empty or bad start creates nothing.
        if (!await source.MoveNextAsync())
        {
            throw new FloodgateValidationException(BatchSpecValidator.NoItems);
        }

        if (!itemsValidated && BatchSpecValidator.CheckItem(source.Current, 0) is { } firstProblem)
        {
            throw new FloodgateValidationException(firstProblem);
        }

        var submission = Guid.NewGuid().ToString("N");
        var opened = await retry.RunAsync(() => grain.OpenAsync(definition.ToDefinition(), submission, expectedItems), cancellationToken);
        if (opened.UploadId is not { } uploadId)
        {
            return opened.Progress;
        }

        try
        {
            return await SendChunksAsync(source, uploadId, opened, itemsValidated, cancellationToken);
        }
        catch (Exception ex) when (ex is not FloodgateConflictException)
        {
            // Whatever stopped the upload, the batch must not stay half-sent (the grain also discards one left silent).
            try
            {
                await retry.RunAsync(() => grain.AbortUploadAsync(uploadId), CancellationToken.None);
            }
            catch (Exception)
            {
                // The batch is discarded by its receive timeout.
            }

            throw;
        }
    }

    private async Task<BatchProgress> SendChunksAsync(
        IAsyncEnumerator<string> source, string uploadId, BatchOpened opened, bool itemsValidated, CancellationToken cancellationToken)
    {
        Task<BatchProgress>? sending = null;
        try
        {
            var position = 0L;
            var more = true;
            for (var chunk = 0; more; chunk++)
            {
                var items = new List<string>(opened.ChunkSize);
                do
                {
                    // source.Current is the next item: reading ahead by one tells the last chunk apart.
                    if (!itemsValidated && BatchSpecValidator.CheckItem(source.Current, position) is { } problem)
                    {
                        throw new FloodgateValidationException(problem);
                    }

                    items.Add(source.Current);
                    position++;
                    more = await source.MoveNextAsync();
                }
                while (more && items.Count < opened.ChunkSize);

                // One chunk on its way at a time, in order; the next one is read meanwhile.
                if (sending is not null)
                {
                    await sending;
                }

                var number = chunk;
                var last = !more;
                sending = retry.RunAsync(() => grain.AppendItemsAsync(uploadId, number, items, last), cancellationToken);
            }

            return await sending!;
        }
        catch when (sending is { IsCompleted: false })
        {
            // The upload stops here: let the chunk on its way land (or fail) before the batch is discarded.
            try
            {
                await sending;
            }
            catch (Exception)
            {
                // Reported by the caller's exception.
            }

            throw;
        }
    }
}
