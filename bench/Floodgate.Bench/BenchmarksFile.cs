namespace Floodgate.Bench;

/// <summary>
/// <c>bench/BENCHMARKS.md</c> is written by more than one scenario: the default one owns the top of the file, every other
/// one its own <c>## </c> section. Each write replaces only its own part and keeps the others.
/// </summary>
internal static class BenchmarksFile
{
    /// <summary>Replaces the section starting with <paramref name="heading"/> (to the next <c>## </c> heading), or appends it.</summary>
    public static async Task WriteSectionAsync(string path, string heading, string section)
    {
        var text = File.Exists(path) ? await File.ReadAllTextAsync(path) : string.Empty;
        var (before, after) = Split(text, heading);
        await File.WriteAllTextAsync(path, $"{before.TrimEnd()}\n\n{section.TrimEnd()}\n{(after.Length > 0 ? "\n" + after : string.Empty)}");
    }

    /// <summary>The <c>## </c> sections of the file at <paramref name="path"/> (what the default scenario keeps when it rewrites the top).</summary>
    public static async Task<string> ReadSectionsAsync(string path)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        var text = await File.ReadAllTextAsync(path);
        var start = text.IndexOf("\n## ", StringComparison.Ordinal);
        return start < 0 ? string.Empty : text[(start + 1)..];
    }

    private static (string Before, string After) Split(string text, string heading)
    {
        var start = text.IndexOf(heading, StringComparison.Ordinal);
        if (start < 0)
        {
            return (text, string.Empty);
        }

        var next = text.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return (text[..start], next < 0 ? string.Empty : text[(next + 1)..]);
    }
}
