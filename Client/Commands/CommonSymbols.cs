using System.CommandLine;
using Floodgate.Validation;

namespace Floodgate.Cli.Commands;

/// <summary>Arguments and options several commands take, defined once so their names and help agree.</summary>
internal static class CommonSymbols
{
    /// <summary>The <c>batchId</c> argument.</summary>
    public static Argument<string> BatchId() => new("batchId") { Description = "The batch id printed by submit." };

    /// <summary>Reads and checks a batch id (before connecting, so a bad id never reaches the cluster).</summary>
    public static string ReadBatchId(ParseResult parseResult, Argument<string> argument) =>
        Names.RequireUnreserved("Batch id", parseResult.GetValue(argument));

    /// <summary>The <c>--json</c> switch of commands that print a record.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print the record as JSON (camelCase, enums as strings) instead of text." };

    /// <summary>The <c>--out</c> option of commands that write results.</summary>
    public static Option<string?> Out(string description) => new("--out") { Description = description, HelpName = "file" };
}
