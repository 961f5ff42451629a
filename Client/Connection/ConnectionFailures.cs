using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Floodgate.Client.Http;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Floodgate.Cli.Connection;

/// <summary>Recognises the exceptions that mean "the cluster cannot be reached", at connect time or mid-command.</summary>
internal static class ConnectionFailures
{
    private const int MaxReasonLength = 200;

    /// <summary>True when <paramref name="exception"/> (or one it wraps) is a connection failure; gives a one-line reason.</summary>
    public static bool TryGetReason(Exception exception, [NotNullWhen(true)] out string? reason)
    {
        for (var current = exception; current is not null; current = Unwrap(current))
        {
            if (current is ClusterUnreachableException
                or SiloUnavailableException
                or ConnectionFailedException
                or OrleansMessageRejectionException
                or TimeoutException
                or SocketException
                or HttpRequestException
                or HttpIOException
                or FloodgateHttpException { StatusCode: HttpStatusCode.ServiceUnavailable })
            {
                reason = ShortReason(current);
                return true;
            }
        }

        reason = null;
        return false;
    }

    /// <summary>The first line of an exception's message, shortened.</summary>
    public static string ShortReason(Exception exception)
    {
        var message = exception.Message.Trim();
        var newline = message.IndexOfAny(['\r', '\n']);
        if (newline >= 0)
        {
            message = message[..newline].TrimEnd();
        }

        if (message.Length == 0)
        {
            message = exception.GetType().Name;
        }

        return message.Length <= MaxReasonLength ? message : message[..MaxReasonLength] + "…";
    }

    private static Exception? Unwrap(Exception exception) =>
        exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception.InnerException;
}
