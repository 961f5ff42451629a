using System.Net;
using Floodgate.Cli.Commands;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Output;
using Floodgate.Client.Http;
using Floodgate.Validation;

namespace Floodgate.Cli;

/// <summary>Turns whatever a command threw into one <c>error: …</c> line on stderr and an exit code; never a stack trace.</summary>
internal static class CommandErrors
{
    /// <summary>
    /// Reports <paramref name="exception"/> and returns the exit code it maps to (see <see cref="ExitCodes"/>);
    /// <paramref name="target"/> names where the commands went (gateways or URL, never a key).
    /// </summary>
    public static int Report(Exception exception, Terminal terminal, string target, CancellationToken cancellationToken)
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
            case FloodgateAccessDeniedException { StatusCode: HttpStatusCode.Unauthorized } denied:
                terminal.WriteError($"{denied.Message} (HTTP 401 from {target}; pass --api-key or set ${GlobalOptions.ApiKeyVariable})");
                return ExitCodes.Unauthorized;
            case FloodgateAccessDeniedException denied:
                terminal.WriteError($"{denied.Message} (HTTP 403 from {target})");
                return ExitCodes.Forbidden;
            case FloodgateConflictException conflict:
                terminal.WriteError(conflict.Message);
                return ExitCodes.Conflict;
        }

        if (ConnectionFailures.TryGetReason(exception, out var reason))
        {
            terminal.WriteError($"could not reach Floodgate at {target}: {reason}");
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
