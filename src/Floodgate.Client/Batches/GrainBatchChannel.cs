using System.Runtime.CompilerServices;
using Floodgate.Batches;

namespace Floodgate.Client.Batches;

/// <summary>A batch reached through its grain: long polls for progress, results read in pages.</summary>
internal sealed class GrainBatchChannel(IBatchGrain grain, FloodgateClientOptions options) : IBatchChannel
{
    public Task<BatchProgress> GetProgressAsync(CancellationToken cancellationToken) =>
        grain.GetProgressAsync().WaitAsync(cancellationToken);

    public Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken) =>
        grain.WaitForProgressAsync(afterVersion, maxWait, cancellationToken);

    public async IAsyncEnumerable<ItemOutcome> ReadResultsAsync(int fromPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var position = fromPosition;
        while (true)
        {
            var page = await grain.ReadResultsAsync(position, options.ResultPageSize, options.PollWait, cancellationToken);
            foreach (var outcome in page.Outcomes)
            {
                yield return outcome;
            }

            if (page.IsComplete)
            {
                yield break;
            }

            position = page.NextPosition;
        }
    }

    public Task<BatchProgress> CancelAsync(CancellationToken cancellationToken) =>
        grain.CancelAsync().WaitAsync(cancellationToken);

    public Task<BatchProgress> RetryFailedAsync(CancellationToken cancellationToken) =>
        grain.RetryFailedAsync().WaitAsync(cancellationToken);
}
