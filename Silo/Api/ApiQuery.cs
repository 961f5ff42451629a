using System.Globalization;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// Reads one request's query parameters and collects what is wrong with them, so a request with several bad parameters
/// gets one 400 naming each. Every whole-number parameter of the API (<c>limit</c>, <c>from</c>, <c>afterVersion</c>,
/// <c>waitMs</c>) is read by the same rule: one value, digits with an optional sign, within the parameter's range.
/// </summary>
internal sealed class ApiQuery(IQueryCollection query)
{
    private const int MaxEchoLength = 40;

    private readonly List<string> _errors = [];

    /// <summary>The problems found so far, in the order the parameters were read.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>Raw text of an optional parameter (the values joined by commas if it was sent more than once).</summary>
    public string? Text(string name) => query.TryGetValue(name, out var values) ? values.ToString() : null;

    /// <summary>An optional whole number from <paramref name="min"/> to <see cref="int.MaxValue"/>; null when absent or bad.</summary>
    public int? Int32(string name, int min) => (int?)WholeNumber(name, min, int.MaxValue);

    /// <summary>An optional whole number from <paramref name="min"/> to <see cref="long.MaxValue"/>; null when absent or bad.</summary>
    public long? Int64(string name, long min = long.MinValue) => WholeNumber(name, min, long.MaxValue);

    /// <summary>Records a problem found by the caller (a value out of its domain, a parameter that needs another).</summary>
    public void AddError(string error)
    {
        if (!_errors.Contains(error))
        {
            _errors.Add(error);
        }
    }

    /// <summary>Throws the collected problems as one <see cref="FloodgateValidationException"/> (a 400), if there are any.</summary>
    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
        {
            throw new FloodgateValidationException(_errors.ToArray());
        }
    }

    /// <summary>A sent value as a message may quote it: cut short, since it is the caller's text.</summary>
    public static string Echo(string text) => text.Length > MaxEchoLength ? text[..MaxEchoLength] + "…" : text;

    private long? WholeNumber(string name, long min, long max)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        if (values.Count == 1
            && long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            && value >= min
            && value <= max)
        {
            return value;
        }

        // One message for every way to miss (not a number, sent twice, below the minimum, too large for the type).
        AddError($"Query '{name}' must be {WholeNumberRange(min, max)} (got '{Echo(values.ToString())}').");
        return null;
    }

    private static string WholeNumberRange(long min, long max) => (min, max) switch
    {
        (long.MinValue, long.MaxValue) => "a whole number",
        (_, long.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"a whole number of at least {min}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"a whole number of at least {min} and at most {max}"),
    };
}
