using System.Text.Json.Nodes;
using Floodgate.Client.Formatting;
using Floodgate.Silo.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Floodgate.Silo.Api;

/// <summary>
/// Every error body of the API (RFC 7807 problem+json, <c>application/problem+json</c>), as the OpenAPI document shows
/// it. <see cref="Errors"/> is always there; the last three only on a refused lease (429, 409, 503).
/// </summary>
/// <param name="Type">A URI naming the kind of problem (RFC 9110's status sections; RFC 6585 for 429).</param>
/// <param name="Title">A short summary of the kind.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Detail">Every message, joined.</param>
/// <param name="Errors">Every message, one per problem found.</param>
/// <param name="TraceId">The request's trace id, to find it in the silo's log and traces.</param>
/// <param name="Failure">Why no lease was granted: timeout, fenced, cancelled, unavailable.</param>
/// <param name="Available">Permits free when the lease was refused.</param>
/// <param name="RetryAfterMs">When to try again, in milliseconds (also sent as <c>Retry-After</c> in seconds).</param>
internal sealed record ApiProblem(
    string Type,
    string Title,
    int Status,
    string Detail,
    IReadOnlyList<string> Errors,
    string? TraceId,
    string? Failure = null,
    int? Available = null,
    long? RetryAfterMs = null);

/// <summary>
/// Endpoint metadata: the type of the body the endpoint reads itself, under each content type it takes (for the OpenAPI
/// document only).
/// </summary>
internal sealed record RequestBodyDescription(Type Type, IReadOnlyList<string> ContentTypes);

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> (Microsoft.AspNetCore.OpenApi) and the endpoint metadata it is built from.</summary>
internal static class ApiOpenApi
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/{documentName}.json";
    public const string ProblemContentType = "application/problem+json";
    private const string ApiKeyScheme = "ApiKey";

    public static IServiceCollection AddFloodgateOpenApi(this IServiceCollection services)
    {
        // Schemas follow the API's JSON (enums as strings, ISO 8601 durations); the API's own writers use ApiJson.
        services.ConfigureHttpJsonOptions(o => FloodgateJson.AddConverters(o.SerializerOptions));
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Floodgate HTTP API",
                    Version = DocumentName,
                    Description = "Batches under a global rate limiter, leases, limiters and breakers of a Floodgate cluster. "
                        + "Errors are RFC 7807 problem+json with an errors list. Durations in responses are ISO 8601 strings "
                        + "(PT1.5S); durations in requests are whole milliseconds (…Ms).",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiDefaults.ApiKeyHeader,
                    Description = "A client key (Floodgate:Api:ClientKeys) or an admin key (Floodgate:Api:AdminKeys); "
                        + "'Authorization: Bearer <key>' works too.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyDescription>().FirstOrDefault() is { } body)
                {
                    var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken);
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Content = body.ContentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
                    };
                }

                // Operations behind a key policy say which role they need.
                var policy = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null);
                if (policy is not null)
                {
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] }];
                    var role = policy == FloodgatePolicies.Admin ? "an admin key" : "a client or admin key (none when the silo has no client keys)";
                    operation.Description = string.Join(" ", new[] { operation.Description, $"Needs {role}." }.Where(d => !string.IsNullOrEmpty(d)));
                }
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                var type = context.JsonTypeInfo.Type;
                if (type == typeof(TimeSpan) || type == typeof(TimeSpan?))
                {
                    schema.Type = type == typeof(TimeSpan) ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
                    schema.Format = "duration";
                    schema.Pattern = null;
                    schema.Description = "An ISO 8601 duration, e.g. PT1.5S.";
                    schema.Examples = [JsonValue.Create("PT1.5S")];
                }

                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>
    /// Documents <typeparamref name="T"/> as the endpoint's JSON request body. Not <c>Accepts&lt;T&gt;</c>: that also
    /// filters requests by content type in routing, which would answer a wrong content type with a bare 415 instead of
    /// the API's problem (the endpoint reads its body itself, see <see cref="ApiJson.ReadAsync{T}"/>). Without
    /// <paramref name="contentTypes"/>, the body is <c>application/json</c>.
    /// </summary>
    public static RouteHandlerBuilder DescribesBody<T>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.WithMetadata(new RequestBodyDescription(typeof(T), contentTypes.Length > 0 ? contentTypes : ["application/json"]));

    /// <summary>Declares the problem+json answers an endpoint gives, with the <see cref="ApiProblem"/> schema.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ApiProblem), [ProblemContentType]));
        }

        return builder;
    }
}
