namespace Floodgate.Validation;

/// <summary>
/// Thrown when a request is rejected before anything was created or changed. <see cref="Errors"/> lists every problem
/// found, each as a sentence a user can act on.
/// </summary>
[GenerateSerializer, Alias("Floodgate.FloodgateValidationException")]
public sealed class FloodgateValidationException : Exception
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public FloodgateValidationException(IReadOnlyList<string> errors)
        : base(string.Join(" ", errors))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception from a single problem.</summary>
    public FloodgateValidationException(string error)
        : this([error])
    {
    }

    /// <summary>Every problem found in the request.</summary>
    [Id(0)]
    public IReadOnlyList<string> Errors { get; }
}

/// <summary>Thrown when a batch, limiter lease or other named resource does not exist.</summary>
[GenerateSerializer, Alias("Floodgate.FloodgateNotFoundException")]
public sealed class FloodgateNotFoundException(string kind, string id)
    : Exception($"{kind} '{id}' was not found.")
{
    /// <summary>What was looked for, e.g. "batch".</summary>
    [Id(0)]
    public string Kind { get; } = kind;

    /// <summary>The identifier that was not found.</summary>
    [Id(1)]
    public string Id { get; } = id;
}
