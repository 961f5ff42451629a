using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Floodgate.Client.Formatting;

/// <summary>
/// The JSON of Floodgate's HTTP API, shared by the silo, the HTTP client and the CLI's <c>--json</c>: camelCase names,
/// enums as camelCase strings, durations as ISO 8601 strings (<see cref="IsoDurationConverter"/>). Readers here accept
/// properties they do not know (a newer silo may add some); the silo reads request bodies more strictly.
/// </summary>
public static class FloodgateJson
{
    /// <summary>The options; read-only.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Adds the converters every Floodgate JSON needs to <paramref name="options"/> (for options built elsewhere).</summary>
    public static JsonSerializerOptions AddConverters(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.Converters.Add(new IsoDurationConverter());
        return options;
    }

    private static JsonSerializerOptions Create()
    {
        var options = AddConverters(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });
        options.MakeReadOnly();
        return options;
    }
}
