using Floodgate.Limiting;
using Floodgate.Validation;

namespace Floodgate.Client.Leases;

/// <summary>
/// Permits of several limiters for one upstream call (nested admission: a tenant's cap, the account, a model). Each
/// limiter grants one permit; all are held together and released together.
/// </summary>
/// <param name="Limiters">The limiters the call must pass; acquired in ordinal order, duplicates ignored.</param>
public sealed record LeaseSetRequest(IReadOnlyList<string> Limiters)
{
    /// <summary>Who holds the leases (grants are fair across holders); null uses the client's id.</summary>
    public string? Holder { get; init; }

    /// <summary>How long all acquires together may wait.</summary>
    public TimeSpan WaitTimeout { get; init; } = FloodgateDefaults.AcquireTimeout;

    /// <summary>Lease TTL asked for; null uses the client's <see cref="FloodgateClientOptions.LeaseTtl"/>.</summary>
    public TimeSpan? LeaseTtl { get; init; }

    /// <summary>Estimated model tokens of the call, charged by limiters with a tokens-per-minute budget.</summary>
    public int Tokens { get; init; }

    /// <summary>Priority class of the waits.</summary>
    public AcquirePriority Priority { get; init; } = AcquirePriority.Normal;

    /// <summary>Every problem with the request; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Limiters is null || Limiters.Count == 0)
        {
            errors.Add("At least one limiter is required.");
        }
        else
        {
            errors.AddRange(Limiters.Select(l => Names.CheckUnreserved("Limiter name", l)).OfType<string>());
        }

        if (Holder is not null && Names.Check("Holder", Holder) is { } holderProblem)
        {
            errors.Add(holderProblem);
        }

        if (WaitTimeout < TimeSpan.Zero)
        {
            errors.Add($"Wait timeout must not be negative (got {WaitTimeout}).");
        }

        if (Tokens < 0)
        {
            errors.Add($"Tokens must not be negative (got {Tokens}).");
        }

        return errors;
    }
}
