using Floodgate.Batches;
using Floodgate.Breakers;
using Floodgate.Client.Batches;
using Floodgate.Limiting;

namespace Floodgate.Client;

/// <summary>
/// What Floodgate offers over any connection: batches (submit, follow, ordered results, cancel), limiter status and live
/// limits, breaker status. <see cref="FloodgateClient"/> carries it over an Orleans client or inside a silo;
/// <see cref="Http.FloodgateHttpClient"/> over the silo's HTTP API (with an API key), for callers outside the cluster
/// network. Tools written against it, like the <c>floodgate</c> CLI, work over both. Invalid input throws
/// <see cref="Validation.FloodgateValidationException"/> before anything is sent; unknown ids throw
/// <see cref="Validation.FloodgateNotFoundException"/>.
/// </summary>
public interface IFloodgateOperations
{
    /// <summary>
    /// Submits a batch and returns its handle. With <see cref="BatchSpec.IdempotencyKey"/> set, submitting again returns
    /// the same batch. <paramref name="batchId"/> may name the batch; otherwise one is generated.
    /// </summary>
    Task<BatchHandle> SubmitBatchAsync(BatchSpec spec, string? batchId = null, CancellationToken cancellationToken = default);

    /// <summary>A handle on an existing batch (no call is made until the handle is used).</summary>
    BatchHandle GetBatch(string batchId);

    /// <summary>Returns a limiter's status.</summary>
    Task<LimiterStatus> GetLimiterStatusAsync(string limiter, CancellationToken cancellationToken = default);

    /// <summary>Changes a limiter's limits live (over HTTP: needs an admin key).</summary>
    Task<LimiterStatus> SetLimitsAsync(string limiter, LimiterLimits limits, CancellationToken cancellationToken = default);

    /// <summary>Returns a shared circuit breaker's status.</summary>
    Task<CircuitStatus> GetBreakerStatusAsync(string breaker, CancellationToken cancellationToken = default);
}
