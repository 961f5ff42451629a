using System.Globalization;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Net.Http.Headers;

namespace Floodgate.Silo.Api;

/// <summary>
/// Every error of the HTTP API as RFC 7807 problem+json. Each problem carries <c>errors</c>: the list of human-readable
/// messages (one or more), so clients read one field whatever went wrong. Never a stack trace, never a key.
/// </summary>
internal static class ApiProblems
{
    public static IResult Invalid(IReadOnlyList<string> errors) =>
        Problem(StatusCodes.Status400BadRequest, "The request is invalid.", errors);

    public static IResult NotFound(string detail) =>
        Problem(StatusCodes.Status404NotFound, "Not found.", [detail]);

    public static IResult Conflict(string detail) =>
        Problem(StatusCodes.Status409Conflict, "Not possible in the current state.", [detail]);

    public static IResult Unauthorized(string detail) =>
        Problem(StatusCodes.Status401Unauthorized, "An API key is required.", [detail]);

    public static IResult Forbidden(string detail) =>
        Problem(StatusCodes.Status403Forbidden, "Not allowed with this key.", [detail]);

    public static IResult Unavailable(string detail) =>
        Problem(StatusCodes.Status503ServiceUnavailable, "The cluster is unavailable.", [detail]);

    /// <summary>The silo is stopping: new work goes to another silo (answered with <c>Retry-After</c>).</summary>
    public static IResult Stopping(HttpResponse response)
    {
        SetRetryAfter(response, TimeSpan.FromSeconds(1));
        return Problem(StatusCodes.Status503ServiceUnavailable, "This silo is stopping.", ["Send new batches and leases to another silo of the cluster."]);
    }

    public static IResult Unexpected() =>
        Problem(StatusCodes.Status500InternalServerError, "Unexpected error.", ["The silo failed to handle the request; its log has the details (see traceId)."]);

    /// <summary>
    /// No lease was granted: 429 when the permits or the rate budget stayed busy; 503 when the limiter moved to another
    /// activation or could not record the grant (retry); 409 when the request id was cancelled. <c>Retry-After</c> when
    /// the limiter gave a hint.
    /// </summary>
    public static IResult NoPermit(HttpResponse response, string limiter, AcquireResult result)
    {
        SetRetryAfter(response, result.RetryAfter);
        var status = result.Failure switch
        {
            AcquireFailure.Fenced or AcquireFailure.Unavailable => StatusCodes.Status503ServiceUnavailable,

            // Retrying cannot help: the request id was cancelled; a new acquire needs a new id.
            AcquireFailure.Cancelled => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status429TooManyRequests,
        };
        return Problem(
            status,
            "No permit available.",
            [result.Reason ?? $"No permit of '{limiter}' was granted."],
            new Dictionary<string, object?>
            {
                ["failure"] = ApiJson.Options.PropertyNamingPolicy!.ConvertName(result.Failure.ToString()),
                ["available"] = result.Available,
                ["retryAfterMs"] = result.RetryAfter is { } retryAfter ? (long)Math.Ceiling(retryAfter.TotalMilliseconds) : null,
            });
    }

    /// <summary><c>Retry-After</c> in whole seconds, rounded up, at least 1.</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
            response.Headers[HeaderNames.RetryAfter] = seconds.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static IResult Problem(int status, string title, IReadOnlyList<string> errors, Dictionary<string, object?>? extensions = null)
    {
        extensions ??= [];
        extensions["errors"] = errors;
        return Results.Problem(
            detail: string.Join(" ", errors),
            statusCode: status,
            title: title,
            // ASP.NET Core fills in the type of the RFC 9110 codes; 429 is RFC 6585's.
            type: status == StatusCodes.Status429TooManyRequests ? "https://tools.ietf.org/html/rfc6585#section-4" : null,
            extensions: extensions);
    }
}

/// <summary>
/// Maps what the SDK and the grains throw to problems, for every endpoint of the API: invalid input → 400, unknown
/// batch → 404, a state that does not allow the request → 409, cluster unreachable → 503, anything else → 500 without
/// details (they go to the log).
/// </summary>
internal sealed partial class ApiProblemFilter(ILogger<ApiProblemFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (FloodgateValidationException ex)
        {
            return ApiProblems.Invalid(ex.Errors.Count > 0 ? ex.Errors : [ex.Message]);
        }
        catch (FloodgateNotFoundException ex)
        {
            return ApiProblems.NotFound(char.ToUpperInvariant(ex.Message[0]) + ex.Message[1..]);
        }
        catch (FloodgateConflictException ex)
        {
            return ApiProblems.Conflict(ex.Message);
        }
        catch (BadHttpRequestException ex)
        {
            // Raised while reading the body: wrong content type (415), too large (413), client aborted upload (400).
            return Results.Problem(
                detail: ex.Message,
                statusCode: ex.StatusCode,
                title: "The request could not be read.",
                extensions: new Dictionary<string, object?> { ["errors"] = new[] { ex.Message } });
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The caller left; nobody reads an answer.
            return Results.Empty;
        }
        catch (Exception ex) when (IsClusterUnavailable(ex))
        {
            LogClusterUnavailable(http.Request.Method, http.Request.Path, ex.GetType().Name);
            return ApiProblems.Unavailable("The Floodgate cluster did not answer in time; retry shortly.");
        }
        catch (Exception ex)
        {
            LogUnexpected(http.Request.Method, http.Request.Path, ex);
            return ApiProblems.Unexpected();
        }
    }

    private static bool IsClusterUnavailable(Exception ex) =>
        ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "API request {Method} {Path}: the cluster is unavailable ({ExceptionType})")]
    private partial void LogClusterUnavailable(string method, PathString path, string exceptionType);

    [LoggerMessage(Level = LogLevel.Error, Message = "API request {Method} {Path} failed unexpectedly")]
    private partial void LogUnexpected(string method, PathString path, Exception exception);
}
