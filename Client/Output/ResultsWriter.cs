using System.Text;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Validation;

namespace Floodgate.Cli.Output;

/// <summary>Writes a batch's outcomes as ordered JSONL (<see cref="OutcomeJson"/>), each line as soon as it is known.</summary>
internal static class ResultsWriter
{
    /// <summary>Streams every outcome of <paramref name="batch"/> to <paramref name="writer"/>; returns how many were written.</summary>
    public static async Task<int> WriteAsync(BatchHandle batch, TextWriter writer, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var outcome in batch.ReadResultsAsync(cancellationToken))
        {
            await writer.WriteLineAsync(OutcomeJson.ToLine(outcome).AsMemory(), cancellationToken);
            count++;
        }

        await writer.FlushAsync(cancellationToken);
        return count;
    }

    /// <summary>Streams every outcome of <paramref name="batch"/> into the file at <paramref name="path"/> (replaced if it exists).</summary>
    public static async Task<int> WriteFileAsync(BatchHandle batch, string path, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return await WriteAsync(batch, writer, cancellationToken);
    }

    /// <summary>Checks that a results file can be created at <paramref name="path"/>, before anything is sent to the cluster.</summary>
    public static void CheckPath(string path)
    {
        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new FloodgateValidationException($"--out '{path}' is not a valid path.");
        }

        if (Directory.Exists(fullPath))
        {
            throw new FloodgateValidationException($"--out '{path}' is a directory.");
        }

        var directory = Path.GetDirectoryName(fullPath);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new FloodgateValidationException($"--out '{path}': directory '{directory}' does not exist.");
        }
    }
}
