using Floodgate.Cli.Connection;
using Floodgate.Cli.Output;
using Floodgate.Validation;

namespace Floodgate.Cli;

/// <summary>Turns whatever a command threw into one <c>error: …</c> line on stderr and an exit code; never a stack trace.</summary>
internal static class CommandErrors
{
    /// <summary>Reports <paramref name="exception"/> and returns the exit code it maps to (see <see cref="ExitCodes"/>).</summary>
    public static int Report(Exception exception, Terminal terminal, IEnumerable<string> gateways, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                terminal.WriteError("interrupted.");
                return ExitCodes.Interrupted;
            case FloodgateValidationException validation:
                terminal.WriteError(validation.Message);
                return ExitCodes.BadInput;
            case FloodgateNotFoundException notFound:
                terminal.WriteError(notFound.Message);
                return ExitCodes.NotFound;
            case FloodgateConflictException conflict:
                terminal.WriteError(conflict.Message);
                return ExitCodes.Conflict;
        }

        if (ConnectionFailures.TryGetReason(exception, out var reason))
        {
            terminal.WriteError($"could not reach Floodgate at {string.Join(", ", gateways)}: {reason}");
            return ExitCodes.Unreachable;
        }

        if (exception is IOException or UnauthorizedAccessException)
        {
            terminal.WriteError(exception.Message);
            return ExitCodes.BadInput;
        }

        terminal.WriteError($"{ConnectionFailures.ShortReason(exception)} ({exception.GetType().Name})");
        return ExitCodes.Failed;
    }
}
