using Floodgate.Silo.Api;
using Floodgate.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging.Abstractions;

namespace Floodgate.Api.Tests;

public sealed class ApiProblemFilterTests
{
    public static TheoryData<Exception, int> Exceptions => new()
    {
        { new FloodgateValidationException(["first problem", "second problem"]), 400 },
        { new FloodgateNotFoundException("batch", "b-1"), 404 },
        { new TimeoutException("Response did not arrive on time"), 503 },
        { new SiloUnavailableException("silo gone"), 503 },
        { new BadHttpRequestException("Request body too large.", 413), 413 },
        { new InvalidOperationException("internal detail at Some.Type.Method()"), 500 },
    };

    [Theory]
    [MemberData(nameof(Exceptions))]
    public async Task Invoke_HandlerThrows_ReturnsProblemWithStatus(Exception exception, int status)
    {
        var problem = await InvokeAsync(exception);

        Assert.Equal(status, problem.StatusCode);
        Assert.IsAssignableFrom<IEnumerable<string>>(problem.ProblemDetails.Extensions["errors"]);
    }

    [Fact]
    public async Task Invoke_ValidationException_ListsEveryError()
    {
        var problem = await InvokeAsync(new FloodgateValidationException(["first problem", "second problem"]));

        Assert.Equal(["first problem", "second problem"], (IEnumerable<string>)problem.ProblemDetails.Extensions["errors"]!);
    }

    [Fact]
    public async Task Invoke_UnexpectedException_HidesItsMessage()
    {
        var problem = await InvokeAsync(new InvalidOperationException("internal detail"));

        Assert.DoesNotContain("internal detail", problem.ProblemDetails.Detail);
        Assert.DoesNotContain("internal detail", string.Join(" ", (IEnumerable<string>)problem.ProblemDetails.Extensions["errors"]!));
    }

    private static async Task<ProblemHttpResult> InvokeAsync(Exception exception)
    {
        var filter = new ApiProblemFilter(NullLogger<ApiProblemFilter>.Instance);
        var context = new DefaultEndpointFilterInvocationContext(new DefaultHttpContext());

        var result = await filter.InvokeAsync(context, _ => throw exception);

        return Assert.IsType<ProblemHttpResult>(result);
    }
}
