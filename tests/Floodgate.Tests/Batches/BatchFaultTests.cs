using Floodgate.Batches;
using Floodgate.Grains.Batches;
using Floodgate.Grains.Batches.Chunks;
using Floodgate.Grains.Items;
using Floodgate.Tests.Infrastructure;

namespace Floodgate.Tests.Batches;

/// <summary>
/// Faults that cost a batch its activation or its messages: what was in flight, what readers saw and who wakes the
/// batch must all survive them. Each test uses its own batch id; faults are keyed by it.
/// </summary>
public sealed class BatchFaultTests(BatchFaultFixture fixture) : IClassFixture<BatchFaultFixture>
{
    private const string Fast = """{"hold":false}""";
    private const string Held = """{"hold":true}""";

    private IBatchGrain Batch(string id) => fixture.Cluster.Client.GetGrain<IBatchGrain>(id);

    /// <summary>The writes a submission makes (the batch's creation, then the reservation of its first positions).</summary>
    private const int SubmitWrites = 2;

    private Task SubmitAsync(string id, BatchSpec spec) => fixture.Client.SubmitBatchAsync(spec, id);

    private static BatchSpec GateBatch(int localLimit, params string[] items) => new()
    {
        Items = items,
        Processor = GateProcessor.ProcessorName,
        LocalLimit = localLimit,
        Limiter = Unique.Name("acct"),
    };

    private async Task LoseActivationAsync(string id)
    {
        // Deactivation with failing writes: the successor sees only what was durable before, as after a crash.
        await fixture.Cluster.DeactivateAsync(Batch(id));
        fixture.Faults.HealWrites(id);
    }

    private async Task<List<ItemOutcome>> ReadAllAsync(string id)
    {
        var outcomes = new List<ItemOutcome>();
        var position = 0;
        while (true)
        {
            var page = await Batch(id).ReadResultsAsync(position, 100, TimeSpan.FromSeconds(5));
            outcomes.AddRange(page.Outcomes);
            if (page.IsComplete)
            {
                return outcomes;
            }

            position = page.NextPosition;
        }
    }

    /// <summary>Like <see cref="Eventually"/>, saying what was seen last when the condition never held.</summary>
    private static async Task WaitForAsync(Func<bool> condition, Func<string> seen)
    {
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(condition()));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Seen: {seen()}", ex);
        }
    }

    private async Task<BatchProgress> WaitFinishedAsync(string id)
    {
        BatchProgress? final = null;
        try
        {
            await Eventually.TrueAsync(async () => (final = await Batch(id).GetProgressAsync()).IsFinished);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Last: {final}\n{string.Join("\n", fixture.Logs.Lines.Where(l => l.Contains(id)))}", ex);
        }

        return final!;
    }

    /// <summary>Defect 10: after a loss, items still running count against the local limit; lost outcomes are re-run.</summary>
    [Fact]
    public async Task Recovery_OutcomesAndDispatchesAfterLastWriteLost_NeverExceedsLocalLimit()
    {
        var id = Unique.Name("b10");
        var gate = GateProcessor.For(id);
        fixture.Faults.FailWritesAfter(id, SubmitWrites);
        await SubmitAsync(id, GateBatch(2, Fast, Fast, Held, Held, Held, Held));

        // Items 0 and 1 reported (not durable), 2 and 3 were dispatched after them and run.
        await WaitForAsync(
            () => (gate.Runs(0), gate.Runs(1), gate.Runs(2), gate.Runs(3), gate.Running) == (1, 1, 1, 1, 2),
            () => $"runs {gate.Runs(0)},{gate.Runs(1)},{gate.Runs(2)},{gate.Runs(3)} running {gate.Running}");
        await LoseActivationAsync(id);

        // The successor either re-runs 0 and 1 at once, or first learns what still runs (2 and 3) and waits for them.
        BatchProgress? progress = null;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                progress = await Batch(id).GetProgressAsync();
                return (gate.Runs(0) >= 2 && gate.Runs(1) >= 2)
                    || (progress is { InFlight: 2, Pending: 4 }
                        && Enumerable.Range(0, 6).All(p => fixture.Faults.ItemCalls(id, p, nameof(IItemGrain.IsRunningAsync)) > 0));
            });
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Seen: runs {gate.Runs(0)},{gate.Runs(1)}, running {gate.Running}, {progress}", ex);
        }

        gate.Open();
        var final = await WaitFinishedAsync(id);
        var outcomes = await ReadAllAsync(id);

        Assert.Equal(6, final.Succeeded);
        Assert.Equal(Enumerable.Range(0, 6), outcomes.Select(o => o.Position));
        Assert.InRange(gate.MaxRunning, 1, 2);
    }

    /// <summary>Defect 11: an item whose activation goes away stops its run first; a new run never overlaps the old one.</summary>
    [Fact]
    public async Task ItemDeactivatedMidRun_RunStopsThenRunsAgain_NeverTwoRunsAtOnce()
    {
        var id = Unique.Name("b11");
        var gate = GateProcessor.For(id);
        await SubmitAsync(id, GateBatch(1, Held));
        await Eventually.TrueAsync(() => Task.FromResult(gate.Running == 1));

        await fixture.Cluster.DeactivateAsync(fixture.Cluster.Client.GetGrain<IItemGrain>(ItemLanes.KeyOf(id, 0)));
        await Eventually.TrueAsync(() => Task.FromResult(gate.Runs(0) >= 2));
        gate.Open();
        var final = await WaitFinishedAsync(id);
        var outcomes = await ReadAllAsync(id);

        Assert.Equal(1, gate.MaxRunning);
        Assert.Equal((1, 0), (final.Succeeded, final.Cancelled));
        Assert.Contains("\"run\":2", outcomes.Single().Result);
    }

    /// <summary>Defect 11: idle collection never takes an item's activation from under its run.</summary>
    [Fact]
    public async Task ItemRunning_IdleActivationsCollected_ItemKeepsItsActivationAndRunsOnce()
    {
        var id = Unique.Name("b11c");
        var gate = GateProcessor.For(id);
        await SubmitAsync(id, GateBatch(1, Held));
        await Eventually.TrueAsync(() => Task.FromResult(gate.Running == 1));

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await Eventually.TrueAsync(async () => (await Batch(id).GetProgressAsync()).InFlight == 1);
        gate.Open();
        await WaitFinishedAsync(id);
        var outcomes = await ReadAllAsync(id);

        Assert.Equal(1, gate.Runs(0));
        Assert.Contains("\"run\":1", outcomes.Single().Result);
    }

    /// <summary>Defect 12: a reader only sees outcomes that are durable, so what it saw never changes after a loss.</summary>
    [Fact]
    public async Task ReadResults_OutcomeNotDurableThenActivationLost_WhatReaderSawNeverChanges()
    {
        var id = Unique.Name("b12");
        var gate = GateProcessor.For(id);
        fixture.Faults.FailWritesAfter(id, SubmitWrites);
        await SubmitAsync(id, GateBatch(2, Fast, Held));
        await Eventually.TrueAsync(async () => (await Batch(id).GetProgressAsync()).Succeeded == 1);

        var seen = (await Batch(id).ReadResultsAsync(0, 10, TimeSpan.Zero)).Outcomes;
        await LoseActivationAsync(id);
        gate.Open();
        await WaitFinishedAsync(id);
        var final = await ReadAllAsync(id);

        Assert.All(seen, outcome => Assert.Equal(final[outcome.Position], outcome));
    }

    /// <summary>Defect 12 (latency side): outcomes become readable once written, long before the batch finishes.</summary>
    [Fact]
    public async Task ReadResults_WhileRunning_ServesDurableOutcomesBeforeTheBatchFinishes()
    {
        var id = Unique.Name("b12r");
        var gate = GateProcessor.For(id);
        await SubmitAsync(id, GateBatch(2, Fast, Held));

        var page = await Batch(id).ReadResultsAsync(0, 10, TimeSpan.FromSeconds(10));
        gate.Open();

        Assert.Equal(0, Assert.Single(page.Outcomes).Position);
        Assert.False(page.IsComplete);
    }

    /// <summary>Defect 13: a cancel while an item's start was lost still finishes: the item, not running, is Cancelled.</summary>
    [Fact]
    public async Task Cancel_ItemStartsLost_BatchFinishesCancelled()
    {
        var id = Unique.Name("b13");
        fixture.Faults.LoseStarts(id);
        await SubmitAsync(id, GateBatch(2, Fast, Fast, Fast));
        await Eventually.TrueAsync(async () => (await Batch(id).GetProgressAsync()).InFlight == 2);

        await Batch(id).CancelAsync();
        var final = await WaitFinishedAsync(id);

        Assert.Equal(BatchState.Cancelled, final.State);
        Assert.Equal(3, final.Cancelled);
    }

    /// <summary>Defect 14: a batch that lost its activation with no item left to report is woken by its reminder.</summary>
    [Fact]
    public async Task ActivationLost_NoItemLeftToReport_ReminderWakesBatchAndItFinishes()
    {
        var id = Unique.Name("b14");
        fixture.Faults.FailWritesAfter(id, SubmitWrites);
        await SubmitAsync(id, GateBatch(3, Fast, Fast, Fast));
        await Eventually.TrueAsync(async () => (await Batch(id).GetProgressAsync()).Succeeded == 3);
        await LoseActivationAsync(id);

        // Nobody calls the batch from here on: watch its storage only.
        await Eventually.TrueAsync(() => Task.FromResult(fixture.Faults.Stored<BatchRecord>(id, "batch-state", fixture.Serializer)?.FinishedAt is not null));
        var outcomes = fixture.Faults.Stored<OutcomeChunk>(id, "batch-outcomes-0", fixture.Serializer)!;

        Assert.Equal(3, fixture.Faults.Stored<BatchRecord>(id, "batch-state", fixture.Serializer)!.PrefixSucceeded);
        Assert.All(outcomes.Outcomes.Take(3), outcome => Assert.Equal(ItemStatus.Succeeded, outcome!.Status));
    }
}
