using System.Collections.Concurrent;

namespace Floodgate.Tests.RateLimiting;

/// <summary>
/// A <see cref="SynchronizationContext"/> with one thread, like a UI thread or a legacy ASP.NET request: a continuation
/// posted to it runs only when that thread is free, so code that blocks the thread on work needing it deadlocks.
/// </summary>
public sealed class SingleThreadedContext : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];

    /// <summary>Runs <paramref name="work"/> on a new single-threaded context and completes with its result.</summary>
    public static Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            var context = new SingleThreadedContext();
            SetSynchronizationContext(context);
            try
            {
                var task = work();
                task.ContinueWith(_ => context._queue.CompleteAdding(), TaskScheduler.Default);
                foreach (var (callback, state) in context._queue.GetConsumingEnumerable())
                {
                    callback(state);
                }

                done.TrySetResult(task.GetAwaiter().GetResult());
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "single-threaded-context",
        };
        thread.Start();
        return done.Task;
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        try
        {
            _queue.Add((d, state));
        }
        catch (InvalidOperationException)
        {
            // The work is over; a stray continuation still runs, just not on the retired thread.
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("A single-threaded context cannot run work synchronously for another thread.");

    public override SynchronizationContext CreateCopy() => this;
}
