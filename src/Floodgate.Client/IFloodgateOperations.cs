using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client.Batches;
using Floodgate.Limiting;

namespace Floodgate.Client;

/// <summary>
/// What Floodgate offers over any connection: batches (submit, follow, ordered results, cancel), limiter status and live
/// limits, breaker status, the list of batches. <see cref="FloodgateClient"/> carries it over an Orleans client or inside a silo;
/// <see cref="Http.FloodgateHttpClient"/> over the silo's HTTP API (with an API key), for callers outside the cluster
/// network. Tools written against it, like the <c>floodgate</c> CLI, work over both. Invalid input throws
/// <see cref="Validation.FloodgateValidationException"/> before anything is sent; unknown ids throw
/// <see cref="Validation.FloodgateNotFoundException"/>.
/// </summary>
public interface IFloodgateOperations
{
    /// <summary>
    /// Submits a batch and returns its handle. With <see cref="BatchDefinition.IdempotencyKey"/> set, submitting again returns
    /// the same batch. <paramref name="batchId"/> may name the batch; otherwise one is generated.
    /// </summary>
    Task<BatchHandle> SubmitBatchAsync(BatchSpec spec, string? batchId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Submits a batch whose items come as a stream (of any length up to the silo's <c>Batches:MaxItems</c>), sent while
    /// they are read; the batch starts running as the first items arrive. Each item is checked before it is sent: an
    /// invalid item, a failing source or a cancellation discards the batch (nothing of it stays, though items already
    /// sent may have run) and throws. Otherwise as <see cref="SubmitBatchAsync(BatchSpec, string?, CancellationToken)"/>.
    /// </summary>
    Task<BatchHandle> SubmitBatchAsync(BatchDefinition definition, IAsyncEnumerable<string> items, string? batchId = null, CancellationToken cancellationToken = default);

    /// <summary>A handle on an existing batch (no call is made until the handle is used).</summary>
    BatchHandle GetBatch(string batchId);

    /// <summary>
    /// One page of the batches the cluster knows (submitted and not yet expired), newest first, optionally only those in
    /// one state. Unfinished batches come with their current counts.
    /// </summary>
    Task<BatchListPage> ListBatchesAsync(BatchListQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Returns a limiter's status.</summary>
    Task<LimiterStatus> GetLimiterStatusAsync(string limiter, CancellationToken cancellationToken = default);

    /// <summary>Changes a limiter's limits live (over HTTP: needs an admin key).</summary>
    Task<LimiterStatus> SetLimitsAsync(string limiter, LimiterLimits limits, CancellationToken cancellationToken = default);

    /// <summary>Returns a shared circuit breaker's status.</summary>
    Task<CircuitStatus> GetBreakerStatusAsync(string breaker, CancellationToken cancellationToken = default);
}
