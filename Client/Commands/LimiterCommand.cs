using System.CommandLine;

namespace Floodgate.Cli.Commands;

/// <summary><c>floodgate limiter show|set</c>: read or change a global limiter.</summary>
internal sealed class LimiterCommand : Command
{
    public LimiterCommand(CliSession session)
        : base("limiter", "Read or change a global limiter.")
    {
        Subcommands.Add(new LimiterShowCommand(session));
        Subcommands.Add(new LimiterSetCommand(session));
    }
}
