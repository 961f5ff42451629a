namespace Floodgate.Validation;

/// <summary>Rules for the names callers choose: limiters, breakers, processors, batch ids, holders.</summary>
public static class Names
{
    /// <summary>
    /// The prefix of the silo's own start-up warm-up names (its batch, limiter and breaker), which lists, catalogs,
    /// metrics and spans leave out. A limiter, breaker or batch name (or idempotency key) a caller gives may not start
    /// with it (<see cref="CheckUnreserved"/>): the object would be hidden, and could meet the warm-up's.
    /// </summary>
    public const string ReservedPrefix = "floodgate-warm-up.";

    /// <summary>True when <paramref name="name"/> starts with <see cref="ReservedPrefix"/> (ordinal, as names are compared).</summary>
    public static bool IsReserved(string? name) => name is not null && name.StartsWith(ReservedPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Returns the problem when <paramref name="value"/> starts with <see cref="ReservedPrefix"/>, else null; on its own
    /// for values with rules of their own (idempotency keys), else through <see cref="CheckUnreserved"/>.
    /// </summary>
    public static string? CheckNotReserved(string what, string? value) =>
        IsReserved(value)
            ? $"{what} '{Shorten(value!)}' is not allowed: names starting with '{ReservedPrefix}' are reserved for the silo's start-up warm-up."
            : null;

    /// <summary>
    /// Returns the problem when <paramref name="value"/> is not a usable name (<see cref="Check"/>) or starts with
    /// <see cref="ReservedPrefix"/>, else null: the rule for limiter, breaker and batch names at every public entry point
    /// (SDK, HTTP API, CLI, configuration). Grains check <see cref="Check"/> only, so the silo's warm-up, which calls
    /// them from inside the silo, can use its names.
    /// </summary>
    public static string? CheckUnreserved(string what, string? value) => Check(what, value) ?? CheckNotReserved(what, value);

    /// <summary>Throws <see cref="FloodgateValidationException"/> when <see cref="CheckUnreserved"/> finds a problem.</summary>
    public static string RequireUnreserved(string what, string? value) =>
        CheckUnreserved(what, value) is { } problem ? throw new FloodgateValidationException(problem) : value!;

    /// <summary>
    /// Returns a problem description when <paramref name="value"/> is not a usable name, else null.
    /// Names are 1..200 characters of letters, digits and <c>-_.:@</c> (so <c>replicate:acct-42</c> works);
    /// '/' is reserved because item grain keys are <c>{batchId}/{position}</c>.
    /// </summary>
    public static string? Check(string what, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return $"{what} must not be empty.";
        }

        if (value.Length > FloodgateDefaults.MaxNameLength)
        {
            return $"{what} must be at most {FloodgateDefaults.MaxNameLength} characters (got {value.Length}).";
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@'))
            {
                return $"{what} '{Shorten(value)}' may contain only letters, digits and - _ . : @.";
            }
        }

        return null;
    }

    /// <summary>Throws <see cref="FloodgateValidationException"/> when <paramref name="value"/> is not a usable name.</summary>
    public static string Require(string what, string? value)
    {
        var problem = Check(what, value);
        if (problem is not null)
        {
            throw new FloodgateValidationException(problem);
        }

        return value!;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}

/// <summary>The rule for acquire request ids, everywhere: like lease ids, non-empty and at most 200 characters.</summary>
public static class RequestIds
{
    /// <summary>Returns the problem with <paramref name="requestId"/>, or null when it is valid.</summary>
    public static string? Check(string? requestId) =>
        string.IsNullOrWhiteSpace(requestId) || requestId.Length > FloodgateDefaults.MaxNameLength
            ? $"Request id must be non-empty and at most {FloodgateDefaults.MaxNameLength} characters (got {(requestId is null ? "none" : requestId.Length + " characters")})."
            : null;

    /// <summary>Returns <paramref name="requestId"/>, or throws <see cref="FloodgateValidationException"/> when it is invalid.</summary>
    public static string Require(string? requestId) =>
        Check(requestId) is { } problem ? throw new FloodgateValidationException(problem) : requestId!;
}

/// <summary>The rule for lease ids, everywhere (the limiter's, and the SDK's check before a release nobody answers).</summary>
public static class LeaseIds
{
    /// <summary>Most lease ids one grouped release may carry (<see cref="Floodgate.Limiting.IGlobalLimiterGrain.ReleaseManyAsync"/>).</summary>
    public const int MaxPerRelease = 10_000;

    /// <summary>Returns the problem with <paramref name="leaseId"/>, or null when it is valid.</summary>
    public static string? Check(string? leaseId) =>
        string.IsNullOrWhiteSpace(leaseId) || leaseId.Length > FloodgateDefaults.MaxNameLength
            ? $"A lease id is required (at most {FloodgateDefaults.MaxNameLength} characters)."
            : null;

    /// <summary>Returns <paramref name="leaseId"/>, or throws <see cref="FloodgateValidationException"/> when it is invalid.</summary>
    public static string Require(string? leaseId) =>
        Check(leaseId) is { } problem ? throw new FloodgateValidationException(problem) : leaseId!;

    /// <summary>
    /// Returns <paramref name="leaseIds"/> for a grouped release, or throws <see cref="FloodgateValidationException"/> when the
    /// list is missing, longer than <see cref="MaxPerRelease"/>, or holds an invalid id.
    /// </summary>
    public static IReadOnlyList<string> RequireAll(IReadOnlyList<string>? leaseIds)
    {
        if (leaseIds is null || leaseIds.Count > MaxPerRelease)
        {
            throw new FloodgateValidationException($"A list of at most {MaxPerRelease} lease ids is required.");
        }

        foreach (var leaseId in leaseIds)
        {
            Require(leaseId);
        }

        return leaseIds;
    }
}
