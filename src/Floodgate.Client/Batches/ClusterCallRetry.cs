using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Floodgate.Client.Batches;

/// <summary>
/// Repeats a batch call through cluster faults (a silo died or is stopping, a message was rejected or timed out) for up
/// to <see cref="FloodgateClientOptions.FailoverRetryTimeout"/>, so a submission rides through a failover. Only for
/// calls that are safe to repeat: opening a batch (by id) and sending a chunk (by number).
/// </summary>
internal sealed class ClusterCallRetry
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    private readonly ResiliencePipeline _pipeline;

    public ClusterCallRetry(TimeProvider time, TimeSpan limit)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (limit > TimeSpan.Zero)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = limit });
        }

        _pipeline = builder
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = FirstDelay,
                MaxDelay = MaxDelay,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ClusterFaults.IsTransient),
            })
            .Build();
    }

    public async Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async ct => await call().WaitAsync(ct), cancellationToken);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new TimeoutException("The Floodgate cluster did not take the batch in time; it kept failing over.", ex);
        }
    }

    public Task RunAsync(Func<Task> call, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            await call();
            return true;
        }, cancellationToken);
}
