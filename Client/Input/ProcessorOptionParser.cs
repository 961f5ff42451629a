using Floodgate.Validation;

namespace Floodgate.Cli.Input;

/// <summary>Turns repeated <c>--option key=value</c> arguments into a batch's processor options.</summary>
internal static class ProcessorOptionParser
{
    /// <summary>Parses each <c>key=value</c> (the value may contain '='); a malformed or repeated key is an error.</summary>
    public static IReadOnlyDictionary<string, string> Parse(IEnumerable<string> arguments)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var argument in arguments)
        {
            var equals = argument.IndexOf('=');
            var key = equals > 0 ? argument[..equals].Trim() : string.Empty;
            if (key.Length == 0)
            {
                throw new FloodgateValidationException($"--option '{argument}' is not key=value.");
            }

            if (!options.TryAdd(key, argument[(equals + 1)..]))
            {
                throw new FloodgateValidationException($"--option '{key}' is given more than once.");
            }
        }

        return options;
    }
}
