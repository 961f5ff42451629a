using System.Net;

namespace Floodgate.ProcessCluster.Api;

/// <summary>The fields of <c>GET /api/limiters/{name}</c> the harness reads.</summary>
public sealed record LimiterSnapshot(
    string Name,
    int MaxConcurrency,
    int InUse,
    int Available,
    int Waiting,
    int HighWaterMark,
    long Grants,
    long Expirations,
    long Epoch,
    long Restored);

/// <summary>The fields of a batch's progress the harness reads; <see cref="State"/> is camelCase (<c>running</c>, <c>completed</c>, …).</summary>
public sealed record BatchSnapshot(
    string BatchId,
    string State,
    int Total,
    int Pending,
    int InFlight,
    int Succeeded,
    int Failed,
    int Cancelled,
    int Retries)
{
    public int Done => Succeeded + Failed + Cancelled;

    public bool IsFinished => State is "completed" or "cancelled";
}

/// <summary>One line of <c>GET /api/batches/{id}/results</c>.</summary>
public sealed record OutcomeLine(int Position, string Status, string? Error, int Attempts);

/// <summary>The answer to a lease request: <see cref="LeaseId"/> when granted, else the status and the problem's text.</summary>
public sealed record AcquireAnswer(HttpStatusCode Status, string? LeaseId, string? Problem)
{
    public bool Granted => LeaseId is not null;
}
