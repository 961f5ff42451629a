using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Floodgate.Gateway;

/// <summary>Errors as OpenAI sends them (<c>{"error":{"message","type","param","code"}}</c>), so any OpenAI client reads them.</summary>
internal static class OpenAiErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new ErrorEnvelope(new ErrorBody(message, type, null, code)), GatewayJsonContext.Default.ErrorEnvelope);
        return context.Response.Body.WriteAsync(body).AsTask();
    }

    public static Task BadRequestAsync(HttpContext context, string message) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, message, "invalid_request_error");

    public static Task NotFoundAsync(HttpContext context, string message) =>
        WriteAsync(context, StatusCodes.Status404NotFound, message, "invalid_request_error", "not_found");

    public static Task RateLimitedAsync(HttpContext context, string message, TimeSpan retryAfter)
    {
        // Whole seconds, at least one: a client that retries at once would only queue again.
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteAsync(context, StatusCodes.Status429TooManyRequests, message, "rate_limit_exceeded", "rate_limit_exceeded");
    }

    public static Task UnavailableAsync(HttpContext context, string message) =>
        WriteAsync(context, StatusCodes.Status503ServiceUnavailable, message, "server_error", "unavailable");

    internal sealed record ErrorEnvelope(ErrorBody Error);

    internal sealed record ErrorBody(string Message, string Type, string? Param, string? Code);
}
