using Floodgate.Silo.Api;
using Floodgate.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Floodgate.Api.Tests;

/// <summary>The one reader of the API's whole-number query parameters (limit, from, afterVersion, waitMs).</summary>
public sealed class ApiQueryTests
{
    [Theory]
    [InlineData("?n=0", 0)]
    [InlineData("?n=7", 7)]
    [InlineData("?n=%2B7", 7)] // a plain '+' in a query string is a space
    [InlineData("?n=2147483647", int.MaxValue)]
    public void Int32_WholeNumberInRange_ReturnsItWithoutErrors(string text, int expected)
    {
        var query = CreateSut(text);

        Assert.Equal(expected, query.Int32("n", min: 0));
        Assert.Empty(query.Errors);
    }

    [Fact]
    public void Int32_Absent_ReturnsNullWithoutErrors()
    {
        var query = CreateSut("?other=x");

        Assert.Null(query.Int32("n", min: 1));
        query.ThrowIfInvalid();
    }

    [Theory]
    [InlineData("?n=ten", "ten")]
    [InlineData("?n=", "")]
    [InlineData("?n=1.5", "1.5")]
    [InlineData("?n=-1", "-1")]
    [InlineData("?n=0", "0")]
    [InlineData("?n=2147483648", "2147483648")]
    [InlineData("?n=99999999999999999999", "99999999999999999999")]
    [InlineData("?n=1&n=2", "1,2")]
    public void Int32_NotAWholeNumberInRange_GivesOneMessageNamingParameterRangeAndValue(string text, string echoed)
    {
        var query = CreateSut(text);

        Assert.Null(query.Int32("n", min: 1));

        var error = Assert.Single(query.Errors);
        Assert.Equal($"Query 'n' must be a whole number of at least 1 and at most 2147483647 (got '{echoed}').", error);
    }

    [Theory]
    [InlineData("?n=-1", "Query 'n' must be a whole number of at least 0 (got '-1').")]
    [InlineData("?n=abc", "Query 'n' must be a whole number of at least 0 (got 'abc').")]
    [InlineData("?n=9223372036854775808", "Query 'n' must be a whole number of at least 0 (got '9223372036854775808').")]
    public void Int64_WithMinimum_RejectsBelowItAndOverflow(string text, string message)
    {
        var query = CreateSut(text);

        Assert.Null(query.Int64("n", min: 0));
        Assert.Equal([message], query.Errors);
    }

    [Theory]
    [InlineData("?n=-9223372036854775808", long.MinValue)]
    [InlineData("?n=9223372036854775807", long.MaxValue)]
    public void Int64_NoMinimum_TakesTheWholeRange(string text, long expected)
    {
        Assert.Equal(expected, CreateSut(text).Int64("n"));
    }

    [Fact]
    public void Int64_NoMinimumAndNotANumber_SaysWholeNumberWithoutARange()
    {
        var query = CreateSut("?n=abc");

        Assert.Null(query.Int64("n"));
        Assert.Equal(["Query 'n' must be a whole number (got 'abc')."], query.Errors);
    }

    [Fact]
    public void Int32_LongValue_IsEchoedCutShort()
    {
        var query = CreateSut("?n=" + new string('9', 100));

        query.Int32("n", min: 1);

        Assert.Contains($"(got '{new string('9', 40)}…')", Assert.Single(query.Errors));
    }

    [Fact]
    public void ThrowIfInvalid_SeveralBadParameters_ThrowsOneValidationErrorNamingEach()
    {
        var query = CreateSut("?a=x&b=-2");
        query.Int32("a", min: 0);
        query.Int32("b", min: 0);
        query.AddError("Query 'c' needs 'a'.");
        query.AddError("Query 'c' needs 'a'.");

        var exception = Assert.Throws<FloodgateValidationException>(query.ThrowIfInvalid);

        Assert.Equal(3, exception.Errors.Count);
        Assert.Contains("'a'", exception.Errors[0]);
        Assert.Contains("'b'", exception.Errors[1]);
        Assert.Equal("Query 'c' needs 'a'.", exception.Errors[2]);
    }

    private static ApiQuery CreateSut(string text) => new(new QueryCollection(QueryHelpers.ParseQuery(text)));
}
