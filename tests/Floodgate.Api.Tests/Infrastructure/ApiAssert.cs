using System.Net;
using System.Text.Json;

namespace Floodgate.Api.Tests.Infrastructure;

/// <summary>Reading answers of the API.</summary>
public static class ApiAssert
{
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// Asserts a problem+json answer with <paramref name="expected"/> status whose <c>errors</c> list mentions
    /// <paramref name="mentions"/>; returns the error messages.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string mentions)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains(mentions, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // never a stack trace
        return errors;
    }
}
