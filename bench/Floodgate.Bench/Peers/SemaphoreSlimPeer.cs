using System.Diagnostics;
using System.Net.Http.Json;

namespace Floodgate.Bench.Peers;

/// <summary>
/// The in-process baseline: a <see cref="SemaphoreSlim"/> loop that calls the simulator straight (one chat request per
/// item, the same request Floodgate's <c>openai-chat</c> processor sends), with nothing durable, shared or fair about it.
/// </summary>
internal sealed class SemaphoreSlimPeer(Uri simulator) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = simulator, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>All <paramref name="items"/> calls started at once, at most <paramref name="limit"/> in flight.</summary>
    public async Task<TimeSpan> RunAsync(int items, int limit, CancellationToken cancellationToken = default)
    {
        using var semaphore = new SemaphoreSlim(limit, limit);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, items).Select(async i =>
        {
            await semaphore.WaitAsync(cancellationToken);
            try
            {
                await CallAsync(i, cancellationToken);
            }
            finally
            {
                semaphore.Release();
            }
        }));
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Fairness baseline: <paramref name="small"/> calls alone, and queued on the same semaphore right behind
    /// <paramref name="large"/> calls; the time of the small group in each case.
    /// </summary>
    public async Task<(TimeSpan Solo, TimeSpan Behind)> RunSmallBehindLargeAsync(int small, int large, int limit, CancellationToken cancellationToken = default)
    {
        var solo = await RunAsync(small, limit, cancellationToken);
        using var semaphore = new SemaphoreSlim(limit, limit);
        Task Group(int count) => Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await semaphore.WaitAsync(cancellationToken);
            try
            {
                await CallAsync(i, cancellationToken);
            }
            finally
            {
                semaphore.Release();
            }
        }));
        var bulk = Group(large);
        var started = Stopwatch.GetTimestamp();
        await Group(small);
        var behind = Stopwatch.GetElapsedTime(started);
        await bulk;
        return (solo, behind);
    }

    /// <summary>The in-process counterpart of <see cref="FloodgateInProcess.AcquireWaitsAsync"/>.</summary>
    public static async Task<Latencies> AcquireWaitsAsync(int callers, int permits, TimeSpan hold, int rounds, CancellationToken cancellationToken = default)
    {
        using var semaphore = new SemaphoreSlim(permits, permits);
        var waits = new Latencies();
        await Latencies.Concurrently(callers, rounds, async _ =>
        {
            var started = Stopwatch.GetTimestamp();
            await semaphore.WaitAsync(cancellationToken);
            waits.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await Task.Delay(hold, cancellationToken);
            semaphore.Release();
        });
        return waits;
    }

    public void Dispose() => _http.Dispose();

    private async Task CallAsync(int i, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync(
            "v1/chat/completions",
            new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = $"item {i}" } } },
            cancellationToken);
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }
}
