using Floodgate.ProcessCluster.Api;
using Floodgate.ProcessCluster.Processes;

namespace Floodgate.ProcessCluster.Measurements;

/// <summary>
/// Measures when a limiter grants: loops that acquire one permit through the HTTP API of a running silo (a short wait),
/// record when the request was sent and when it was granted, and release at once. A grant stall after a fault is read
/// from these records (<see cref="MeasureStallAsync"/>). Each loop holds at most one permit for a moment, and as its own
/// holder it is served round-robin with the batch, so it sees grants as soon as the limiter makes them.
/// </summary>
public sealed class GrantProbe : IAsyncDisposable
{
    /// <summary>Holder name of the probe's leases.</summary>
    public const string Holder = "grant-probe";

    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    private readonly string _limiter;
    private readonly Func<IReadOnlyList<FloodgateHttpApi>> _targets;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Grant> _grants = [];
    private readonly List<Refusal> _refusals = [];
    private readonly Task[] _loops;

    /// <param name="limiter">The limiter to probe.</param>
    /// <param name="targets">The APIs of the silos running now (asked before every attempt).</param>
    /// <param name="loops">Concurrent probe loops: with two, a call stuck on a dying silo does not blind the probe.</param>
    public GrantProbe(string limiter, Func<IReadOnlyList<FloodgateHttpApi>> targets, int loops = 2)
    {
        _limiter = limiter;
        _targets = targets;
        _loops = Enumerable.Range(0, loops).Select(i => Task.Run(() => LoopAsync(i, _stop.Token))).ToArray();
    }

    /// <summary>A grant: when its request was sent and when the answer arrived (<see cref="Timeline"/> time).</summary>
    public sealed record Grant(TimeSpan SentAt, TimeSpan GrantedAt, string Silo);

    /// <summary>An acquire that got no lease: an answer (429, 503, …) or no answer.</summary>
    public sealed record Refusal(TimeSpan At, string Silo, string Problem);

    /// <summary>Grants seen so far.</summary>
    public IReadOnlyList<Grant> Grants
    {
        get
        {
            lock (_grants)
            {
                return [.. _grants];
            }
        }
    }

    /// <summary>
    /// The grant stall after a fault at <paramref name="faultAt"/>: the longest time without a grant from the fault until the
    /// first grant asked for after the faulted process had exited (<paramref name="exitedAt"/>; a graceful stop may grant
    /// for a while before the silo is gone, then stall). Waits up to <paramref name="bound"/> after the fault.
    /// </summary>
    public async Task<StallMeasurement> MeasureStallAsync(TimeSpan faultAt, Func<TimeSpan?> exitedAt, TimeSpan bound, CancellationToken cancellationToken)
    {
        var deadline = faultAt + bound;
        while (Timeline.Now < deadline)
        {
            if (exitedAt() is { } exit && Gaps.GrantStall(Grants.Select(g => (g.SentAt, g.GrantedAt)), faultAt, exit) is { } stall)
            {
                return new StallMeasurement(stall.Stall, stall.ResumedAfter, RefusalsSince(faultAt));
            }

            await Task.Delay(20, cancellationToken);
        }

        return new StallMeasurement(null, null, RefusalsSince(faultAt));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private IReadOnlyList<Refusal> RefusalsSince(TimeSpan at)
    {
        lock (_refusals)
        {
            return _refusals.Where(r => r.At >= at).ToList();
        }
    }

    private async Task LoopAsync(int loop, CancellationToken cancellationToken)
    {
        var turn = loop;
        while (!cancellationToken.IsCancellationRequested)
        {
            var targets = _targets();
            if (targets.Count == 0)
            {
                await Delay(Pause, cancellationToken);
                continue;
            }

            var api = targets[turn++ % targets.Count];
            var sentAt = Timeline.Now;
            string problem;
            try
            {
                using var cts = HarnessHttp.Within(CallTimeout, cancellationToken);
                var answer = await api.TryAcquireAsync(_limiter, Holder, Wait, Ttl, cts.Token);
                if (answer.LeaseId is { } leaseId)
                {
                    lock (_grants)
                    {
                        _grants.Add(new Grant(sentAt, Timeline.Now, api.BaseUrl.Authority));
                    }

                    await ReleaseAsync(api, leaseId, cancellationToken);
                    continue;
                }

                problem = $"{(int)answer.Status}: {answer.Problem}";
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                problem = $"no answer: {ex.GetType().Name}: {ex.Message}";
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_refusals)
            {
                _refusals.Add(new Refusal(sentAt, api.BaseUrl.Authority, problem));
            }

            await Delay(Pause, cancellationToken);
        }
    }

    private async Task ReleaseAsync(FloodgateHttpApi api, string leaseId, CancellationToken cancellationToken)
    {
        try
        {
            using var cts = HarnessHttp.Within(CallTimeout, cancellationToken);
            await api.ReleaseAsync(_limiter, leaseId, cts.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The lease expires by its short TTL.
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken) =>
        await Task.Delay(delay, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
}

/// <summary>What the probe saw after a fault.</summary>
/// <param name="Stall">Longest time without a grant from the fault until grants had resumed; null when they did not within the bound.</param>
/// <param name="ResumedAfter">From the fault to the first grant asked for after the faulted silo exited.</param>
/// <param name="Refusals">Acquires since the fault that got no lease, with what they got instead.</param>
public sealed record StallMeasurement(TimeSpan? Stall, TimeSpan? ResumedAfter, IReadOnlyList<GrantProbe.Refusal> Refusals)
{
    /// <summary>The refusals' problems, counted, for a message.</summary>
    public string DescribeRefusals(int max = 5) =>
        Refusals.Count == 0
            ? "no refused acquire"
            : $"{Refusals.Count} refused acquires: " + string.Join("; ", Refusals
                .GroupBy(r => Shorten(r.Problem))
                .OrderByDescending(g => g.Count())
                .Take(max)
                .Select(g => $"{g.Count()}× {g.Key}"));

    // Problems differ in numbers (seconds left, times, ports): group them with the numbers blanked out.
    private static string Shorten(string problem)
    {
        var shape = System.Text.RegularExpressions.Regex.Replace(problem, "[0-9]+([.:][0-9]+)*", "#");
        return shape.Length <= 200 ? shape : shape[..200] + "…";
    }
}
