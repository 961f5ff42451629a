using System.Collections;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Floodgate.Client.Formatting;
using Floodgate.Validation;

namespace Floodgate.Silo.Api;

/// <summary>
/// JSON of the HTTP API: <see cref="FloodgateJson"/> (camelCase, enums as camelCase strings, ISO 8601 durations), with
/// numbers only as JSON numbers and unknown properties refused in request bodies.
/// Kept apart from the host's global JSON options so the API's strictness never changes another endpoint of the silo
/// (health, dashboard).
/// </summary>
internal static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Create();

    public static IResult Ok<T>(T value, int statusCode = StatusCodes.Status200OK) =>
        TypedResults.Json(value, Options, statusCode: statusCode);

    public static IResult Created<T>(HttpResponse response, string location, T value)
    {
        response.Headers.Location = location;
        return TypedResults.Json(value, Options, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// Reads the request body as <typeparamref name="T"/>. An empty body (or JSON <c>null</c>) gives null, or a 400 when
    /// <paramref name="required"/>; malformed JSON, wrong types and unknown properties give a 400 saying where and what.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, bool required, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentType is not null && !request.HasJsonContentType())
        {
            throw new BadHttpRequestException(
                "The request body must be JSON: send 'Content-Type: application/json'.",
                StatusCodes.Status415UnsupportedMediaType);
        }

        var value = await IsEmptyAsync(request.BodyReader, cancellationToken)
            ? null
            : await DeserializeAsync<T>(request.BodyReader, cancellationToken);
        if (value is null && required)
        {
            throw new FloodgateValidationException("This endpoint needs a JSON object as its request body.");
        }

        return value;
    }

    /// <summary>
    /// Reads one JSON document (e.g. a line of an NDJSON body) as <typeparamref name="T"/>, as strictly as a request body;
    /// a problem is a 400 whose message starts with <paramref name="where"/>.
    /// </summary>
    public static T? Deserialize<T>(ReadOnlySpan<byte> utf8, string where)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(utf8, Options);
        }
        catch (JsonException ex)
        {
            throw new FloodgateValidationException($"{char.ToUpperInvariant(where[0])}{where[1..]}: {Describe(ex, Options.GetTypeInfo(typeof(T)))}");
        }
    }

    private static async Task<bool> IsEmptyAsync(PipeReader body, CancellationToken cancellationToken)
    {
        // Peek without consuming: the deserializer reads from the start.
        var read = await body.ReadAsync(cancellationToken);
        var empty = read.IsCompleted && read.Buffer.IsEmpty;
        body.AdvanceTo(read.Buffer.Start);
        return empty;
    }

    private static async Task<T?> DeserializeAsync<T>(PipeReader body, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(body, Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new FloodgateValidationException(Describe(ex, Options.GetTypeInfo(typeof(T))));
        }
    }

    /// <summary>A message a caller can act on, without .NET type names.</summary>
    private static string Describe(JsonException ex, JsonTypeInfo type)
    {
        var where = ex.LineNumber is { } line ? $" (line {line + 1}, position {ex.BytePositionInLine + 1})" : string.Empty;
        var known = string.Join(", ", type.Properties.Select(p => p.Name));
        if (ex.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var name = Quoted(ex.Message) ?? TopLevelProperty(ex.Path) ?? "?";
            return $"Unknown property '{name}' in the request body{where}. Known properties: {known}.";
        }

        if (ex.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
        {
            return $"Property '{Quoted(ex.Message) ?? TopLevelProperty(ex.Path) ?? "?"}' appears more than once in the request body{where}.";
        }

        if (ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            var property = TopLevelProperty(ex.Path) is { } top
                ? type.Properties.FirstOrDefault(p => string.Equals(p.Name, top, StringComparison.OrdinalIgnoreCase))
                : null;
            return property is null
                ? $"The request body must be a JSON object with the properties {known}{where}."
                : $"Property '{property.Name}' must be {Expected(property.PropertyType)}{where}.";
        }

        return $"The request body is not valid JSON{where}: {ReaderProblem(ex.Message)}";
    }

    /// <summary>The reader's own sentence (e.g. "'x' is an invalid start of a value.") without its position suffix.</summary>
    private static string ReaderProblem(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        return (cut < 0 ? message : message[..cut]).Trim().TrimEnd('.', ' ', '|') + ".";
    }

    private static string? Quoted(string message)
    {
        var start = message.IndexOf('\'');
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end > start ? message[(start + 1)..end] : null;
    }

    /// <summary><c>$.localLimit</c>, <c>$.items[3]</c>, <c>$['odd name']</c> → the first property name.</summary>
    private static string? TopLevelProperty(string? path)
    {
        if (path is null || path.Length < 3)
        {
            return null;
        }

        if (path.StartsWith("$['", StringComparison.Ordinal))
        {
            var end = path.IndexOf("']", 3, StringComparison.Ordinal);
            return end < 0 ? null : path[3..end];
        }

        if (!path.StartsWith("$.", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = path[2..];
        var stop = rest.IndexOfAny(['.', '[']);
        return stop < 0 ? rest : rest[..stop];
    }

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            var names = Enum.GetValues(type).Cast<Enum>().OrderBy(v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)).Select(v => JsonNamingPolicy.CamelCase.ConvertName(v.ToString()));
            return "one of " + string.Join(", ", names);
        }

        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(double) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when typeof(IDictionary).IsAssignableFrom(type) || type.GetInterfaces().Any(IsGenericDictionary) || IsGenericDictionary(type) => "an object",
            _ when type.GetGenericArguments() is [var element] && typeof(IEnumerable).IsAssignableFrom(type) =>
                element == typeof(string) ? "an array of strings" : "an array",
            _ => "an object",
        };

        static bool IsGenericDictionary(Type t) =>
            t.IsGenericType && t.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>));
    }

    private static JsonSerializerOptions Create()
    {
        // The shared wire format (enums as strings, ISO 8601 durations), read strictly.
        var options = new JsonSerializerOptions(FloodgateJson.Options)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,

            // The web defaults read "5" as 5; a number sent as a string is a mistyped property and gets a 400.
            NumberHandling = JsonNumberHandling.Strict,
        };
        options.MakeReadOnly();
        return options;
    }
}
