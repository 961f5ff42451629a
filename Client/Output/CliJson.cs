using System.Text.Encodings.Web;
using System.Text.Json;
using Floodgate.Client.Formatting;

namespace Floodgate.Cli.Output;

/// <summary>The JSON shape of records printed with <c>--json</c>: the HTTP API's (<see cref="FloodgateJson"/>), indented.</summary>
internal static class CliJson
{
    /// <summary>Options for printed records.</summary>
    public static readonly JsonSerializerOptions Options = new(FloodgateJson.Options)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="value"/> as JSON followed by a newline.</summary>
    public static void Write<T>(TextWriter writer, T value) => writer.WriteLine(JsonSerializer.Serialize(value, Options));
}
