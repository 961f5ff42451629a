using System.Text.Json;

namespace Floodgate.Tests.Infrastructure;

/// <summary>Builds batch items as JSON texts.</summary>
public static class TestItems
{
    public static IReadOnlyList<string> Strings(IEnumerable<string> values) => values.Select(v => JsonSerializer.Serialize(v)).ToList();

    public static IReadOnlyList<string> Words(int count, string prefix = "word") =>
        Strings(Enumerable.Range(0, count).Select(i => $"{prefix}-{i}"));
}
