using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;

namespace Floodgate.Client.Formatting;

/// <summary>
/// A <see cref="TimeSpan"/> as an ISO 8601 duration string (<c>PT1.5S</c>, <c>PT2M</c>, <c>P1DT2H</c>), the form every
/// language's date library reads; never .NET's <c>hh:mm:ss</c>. Request bodies use whole milliseconds (<c>waitMs</c>).
/// </summary>
public sealed class IsoDurationConverter : JsonConverter<TimeSpan>
{
    /// <inheritdoc />
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        try
        {
            return XmlConvert.ToTimeSpan(text ?? throw new FormatException());
        }
        catch (FormatException)
        {
            throw new JsonException("A duration must be an ISO 8601 duration string such as \"PT1.5S\".");
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(XmlConvert.ToString(value));
}
