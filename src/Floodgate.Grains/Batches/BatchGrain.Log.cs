using Microsoft.Extensions.Logging;

namespace Floodgate.Grains.Batches;

/// <summary>The batch's log messages (never an item, an outcome or a secret).</summary>
internal sealed partial class BatchGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: {Count} item(s), processor {Processor}, limiter {Limiter}, local limit {LocalLimit}")]
    private partial void LogSubmitted(string batchId, int count, string processor, string limiter, int localLimit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} finished: {Succeeded} succeeded, {Failed} failed, {Cancelled} cancelled")]
    private partial void LogFinished(string batchId, int succeeded, int failed, int cancelled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} resumes after losing its activation: {Left} item(s) without an outcome, {Unconfirmed} to ask whether they still run")]
    private partial void LogResuming(string batchId, int left, int unconfirmed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: running its {Failed} failed item(s) again (retry round {Round})")]
    private partial void LogRetrying(string batchId, int failed, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: ready to run {Left} item(s) again")]
    private partial void LogRebuilt(string batchId, int left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: cancel did not reach item {Position}")]
    private partial void LogCancelFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: write failed; retrying")]
    private partial void LogCheckpointFailed(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: another activation wrote the batch's records; this one stops")]
    private partial void LogFenced(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} cancelling; {InFlight} item(s) in flight")]
    private partial void LogCancelling(string batchId, int inFlight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: outcome for position {Position} arrived for an unknown batch")]
    private partial void LogUnknownReport(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: outcome for position {Position} arrived from a run before the retry; ignored")]
    private partial void LogStaleReport(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch {BatchId}: item {Position} was not started (its silo is stopping); starting it again soon")]
    private partial void LogStartRefused(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: item {Position} could not be started; asking it soon whether it runs")]
    private partial void LogDispatchFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: item {Position} could not be read from storage; it runs again shortly")]
    private partial void LogItemReadFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: could not ask item {Position} whether it runs; asking again at the next check")]
    private partial void LogProbeFailed(Exception ex, string batchId, int position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: item {Position} is not running and has no outcome; it runs again")]
    private partial void LogRequeued(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: item {Position} was interrupted; it runs again")]
    private partial void LogInterrupted(string batchId, int position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: reminder could not be registered or removed")]
    private partial void LogReminderFailed(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: the list of batches could not be updated")]
    private partial void LogIndexFailed(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: deleting, {Why}")]
    private partial void LogDeleting(string batchId, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: deleted from storage")]
    private partial void LogDeleted(string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: deletion failed; it is finished by the batch's next activation")]
    private partial void LogDeleteFailed(Exception ex, string batchId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch {BatchId}: finished and idle; leaving memory")]
    private partial void LogEvicting(string batchId);
}
