using System.Threading.RateLimiting;

namespace Floodgate.Tests.RateLimiting;

/// <summary>The reference: <see cref="ConcurrencyLimiter"/> passes the contract suite, so the suite asks for the right things.</summary>
public sealed class ConcurrencyLimiterContractTests : RateLimiterContractTests
{
    protected override Task<RateLimiter> CreateAsync(int permitLimit, int queueLimit) =>
        Task.FromResult<RateLimiter>(new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = permitLimit,
            QueueLimit = queueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));
}
