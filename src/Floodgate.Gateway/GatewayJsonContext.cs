using System.Text.Json.Serialization;

namespace Floodgate.Gateway;

/// <summary>The gateway's own JSON (errors), snake_case like OpenAI's.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(OpenAiErrors.ErrorEnvelope))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
