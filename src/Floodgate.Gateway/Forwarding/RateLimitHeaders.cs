using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Floodgate.Limiting;

namespace Floodgate.Gateway.Forwarding;

/// <summary>
/// Reads an upstream's rate-limit headers: <c>Retry-After</c> (seconds or an HTTP date), <c>retry-after-ms</c>, and
/// OpenAI's <c>x-ratelimit-remaining-requests|tokens</c> with <c>x-ratelimit-reset-requests|tokens</c> (durations such as
/// <c>1s</c>, <c>6m0s</c>, <c>20ms</c>).
/// </summary>
internal static partial class RateLimitHeaders
{
    /// <summary>The signal in <paramref name="response"/>'s headers; null when it carries none.</summary>
    public static UpstreamSignal? Read(HttpResponseMessage response, DateTimeOffset now)
    {
        var retryAfter = RetryAfter(response.Headers, now);
        var signal = new UpstreamSignal(
            retryAfter,
            Long(response.Headers, "x-ratelimit-remaining-requests"),
            Duration(Single(response.Headers, "x-ratelimit-reset-requests")),
            Long(response.Headers, "x-ratelimit-remaining-tokens"),
            Duration(Single(response.Headers, "x-ratelimit-reset-tokens")));
        return signal == new UpstreamSignal() ? null : signal;
    }

    /// <summary>Parses <c>1s</c>, <c>6m0s</c>, <c>1h2m3.5s</c>, <c>20ms</c> or plain seconds; null when it is none of them.</summary>
    public static TimeSpan? Duration(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var plainSeconds))
        {
            return plainSeconds >= 0 ? TimeSpan.FromSeconds(plainSeconds) : null;
        }

        var matches = DurationPart().Matches(value);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != value.Length)
        {
            return null;
        }

        var total = TimeSpan.Zero;
        foreach (Match part in matches)
        {
            var amount = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                _ => TimeSpan.FromMilliseconds(amount),
            };
        }

        return total;
    }

    private static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (Single(headers, "retry-after-ms") is { } ms && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
            _ => null,
        };
    }

    private static long? Long(HttpResponseHeaders headers, string name) =>
        long.TryParse(Single(headers, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? Single(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|h|m|s)", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();
}
