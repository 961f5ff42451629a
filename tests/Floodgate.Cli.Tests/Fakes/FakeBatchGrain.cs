using Floodgate.Batches;
using Floodgate.Validation;

namespace Floodgate.Cli.Tests.Fakes;

/// <summary>A batch that replays a fixed sequence of progress snapshots and a fixed list of outcomes.</summary>
internal sealed class FakeBatchGrain(string id) : IBatchGrain
{
    public string Id { get; } = id;

    /// <summary>Snapshots in order; watchers see each one whose version is newer than the last they saw.</summary>
    public List<BatchProgress> Snapshots { get; } = [];

    /// <summary>Every outcome, in position order.</summary>
    public List<ItemOutcome> Outcomes { get; } = [];

    /// <summary>Outcomes per results page.</summary>
    public int PageSize { get; set; } = 2;

    /// <summary>When set, every call throws it.</summary>
    public Exception? Failure { get; set; }

    public int CancelCalls { get; private set; }

    public int RetryCalls { get; private set; }

    public BatchSpec? SubmittedSpec { get; private set; }

    public static FakeBatchGrain Missing(string id) => new(id) { Failure = new FloodgateNotFoundException("batch", id) };

    /// <summary>What the fake client hands over once it has read every item of a submission.</summary>
    public Task<BatchProgress> SubmitAsync(BatchSpec spec)
    {
        ThrowIfFailing();
        SubmittedSpec = spec;
        return Task.FromResult(Snapshots[0]);
    }

    public Task<BatchOpened> OpenAsync(BatchDefinition definition, string uploadId, int? expectedItems = null) => throw new NotSupportedException();

    public Task<BatchProgress> AppendItemsAsync(string uploadId, int chunk, IReadOnlyList<string> items, bool last) => throw new NotSupportedException();

    public Task AbortUploadAsync(string uploadId) => throw new NotSupportedException();

    public Task<BatchProgress> RetryFailedAsync()
    {
        ThrowIfFailing();
        RetryCalls++;
        return Task.FromResult(Snapshots[^1]);
    }

    public Task<BatchProgress> GetProgressAsync()
    {
        ThrowIfFailing();
        return Task.FromResult(Snapshots[0]);
    }

    public Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing();
        return Task.FromResult(Snapshots.FirstOrDefault(p => p.Version > afterVersion) ?? Snapshots[^1]);
    }

    public Task<ResultPage> ReadResultsAsync(int fromPosition, int maxCount, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing();
        var page = Outcomes.Skip(fromPosition).Take(Math.Min(maxCount, PageSize)).ToList();
        var next = fromPosition + page.Count;
        return Task.FromResult(new ResultPage(page, next, next >= Outcomes.Count));
    }

    public Task<BatchProgress> CancelAsync()
    {
        ThrowIfFailing();
        CancelCalls++;
        return Task.FromResult(Snapshots[^1]);
    }

    private void ThrowIfFailing()
    {
        if (Failure is not null)
        {
            throw Failure;
        }
    }
}
