using System.Collections.Concurrent;
using Floodgate.Grains.Hosting;
using Floodgate.Limiting;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Core.Internal;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Floodgate.Tests.Failover;

/// <summary>A cluster with storage the test can tamper with and a short (3 s) Orleans response timeout.</summary>
public sealed class DurableClusterFixture : IAsyncLifetime
{
    public ConcurrentDictionary<string, (string ETag, byte[] State)> Store { get; } = new();

    public StorageFaults Faults { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Limiters:ConfirmInterval"] = "00:00:00.500",
        }).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (sp, _) => new SharedGrainStorage(Store, sp.GetRequiredService<Serializer>(), Faults));
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
            silo.AddIncomingGrainCallFilter<FaultInjectionFilter>();
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(3));
        });
        builder.ConfigureClient(client => client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(3)));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>
    /// Loses the limiter's activation uncleanly, as a crash of its silo does: another claim makes its ETag stale, so its
    /// next write fails, it stops and deactivates without handing over, and the next call activates a successor that
    /// reads what storage holds. Returns once the successor is up.
    /// </summary>
    public async Task LoseActivationAsync(string limiter)
    {
        var grain = Cluster.Client.GetGrain<IGlobalLimiterGrain>(limiter);
        var epoch = (await grain.GetStatusAsync()).Epoch;
        var key = Store.Keys.Single(k => k.Contains(limiter, StringComparison.Ordinal));
        Store[key] = ("another-activation", Store[key].State);
        await Eventually.TrueAsync(async () => (await grain.GetStatusAsync()).Epoch > epoch, tolerateErrors: true);
    }
}

public sealed class DurableLimiterTests(DurableClusterFixture fixture) : IClassFixture<DurableClusterFixture>
{
    [Fact]
    public async Task AcquireAsync_WaitLongerThanResponseTimeout_IsGrantedNotCutOff()
    {
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(Unique.Name("long-wait"));
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        var held = (await limiter.AcquireAsync(new AcquireRequest("first", 1, TimeSpan.Zero))).Lease!;

        var waiting = limiter.AcquireWaitingAsync(new AcquireRequest("second", 1, TimeSpan.FromSeconds(30)), TimeProvider.System);
        // Hold the permit past the 3 s response timeout before letting the waiter in.
        await Task.Delay(TimeSpan.FromSeconds(4));
        await limiter.ReleaseAsync(held.LeaseId);
        var result = await waiting;

        Assert.True(result.Granted);
        var status = await limiter.GetStatusAsync();
        Assert.Equal((1, 0), (status.InUse, status.Waiting));
    }

    [Fact]
    public async Task AcquireAsync_WaitLongerThanOneHold_AnswersStillQueuedAndTheNextCallKeepsItsPlace()
    {
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(Unique.Name("slices"));
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        var held = (await limiter.AcquireAsync(new AcquireRequest("first", 1, TimeSpan.Zero))).Lease!;

        // No request id given: the limiter names the wait so the next call can find it.
        var first = await limiter.AcquireAsync(new AcquireRequest("second", 1, TimeSpan.FromMinutes(1)));
        Assert.Equal(AcquireFailure.Queued, first.Failure);
        Assert.NotNull(first.RequestId);
        var later = await limiter.AcquireAsync(new AcquireRequest("third", 1, TimeSpan.FromMinutes(1), RequestId: AcquireRequest.NewRequestId()));
        Assert.Equal(AcquireFailure.Queued, later.Failure);

        // The permit frees while neither caller is waiting in a call: it goes to the first in line, kept for its next call.
        await limiter.ReleaseAsync(held.LeaseId);
        var status = await limiter.GetStatusAsync();
        Assert.Equal((1, 1), (status.InUse, status.Waiting));
        var granted = await limiter.AcquireAsync(new AcquireRequest("second", 1, TimeSpan.FromMinutes(1), RequestId: first.RequestId));
        Assert.True(granted.Granted);
        Assert.Equal("second", granted.Lease!.Holder);

        // The third caller never comes back: its place is dropped after the grace time.
        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Waiting == 0);
        await limiter.ReleaseAsync(granted.Lease.LeaseId);
        Assert.Equal(0, (await limiter.GetStatusAsync()).InUse);
    }

    [Fact]
    public async Task DeactivateOnIdle_WithACallerWaiting_MovesWhileItWaitsAndTheSuccessorGrantsIt()
    {
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(Unique.Name("move-waiting"));
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        var held = (await limiter.AcquireAsync(new AcquireRequest("first", 1, TimeSpan.Zero))).Lease!;
        var epoch = (await limiter.GetStatusAsync()).Epoch;
        var waiting = limiter.AcquireWaitingAsync(new AcquireRequest("second", 1, TimeSpan.FromMinutes(10)), TimeProvider.System);
        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Waiting == 1);

        // What Orleans does when it moves an activation (rebalancing, a lost directory entry): it deactivates once no
        // request runs in it. A call held for the whole wait would keep the limiter, and every release, stuck meanwhile.
        await limiter.Cast<IGrainManagementExtension>().DeactivateOnIdle();

        await Eventually.TrueAsync(async () => (await limiter.GetStatusAsync()).Epoch > epoch);
        Assert.False(waiting.IsCompleted);
        var successor = await limiter.GetStatusAsync();
        Assert.Equal((1, 1), (successor.InUse, successor.Waiting));

        // The waiter's next call found the successor and queued there; a release reaches it and the permit moves on.
        Assert.True(await limiter.ReleaseAsync(held.LeaseId));
        var granted = await waiting.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal("second", granted.Lease?.Holder);
    }

    [Fact]
    public async Task RenewAsync_ItsWriteIsFenced_AnswersMovedInsteadOfPromisingAnExpiryNoSuccessorKnows()
    {
        var name = Unique.Name("renew-durable");
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);
        await limiter.SetLimitsAsync(new LimiterLimits(1));
        var lease = (await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero))).Lease!;
        // Long enough for the claim below to land before the renewal's write checks its ETag; short enough that the
        // renewal, even queued behind a lazy write, answers within the fixture's 3 s response timeout.
        fixture.Faults.SlowWrites(name, TimeSpan.FromMilliseconds(500));
        try
        {
            var renewal = limiter.RenewAsync(RenewRequest.For(lease));

            // Another activation claims the record while the renewal's write runs: that write fails, so the renewal
            // must not be answered (a successor reads the old expiry).
            var key = fixture.Store.Keys.Single(k => k.Contains(name, StringComparison.Ordinal));
            fixture.Store[key] = ("someone-else", fixture.Store[key].State);

            await Assert.ThrowsAsync<LimiterMovedException>(() => renewal);
        }
        finally
        {
            fixture.Faults.SlowWrites(name, TimeSpan.Zero);
        }
    }

    [Fact]
    public async Task ConfirmClaim_AnotherActivationWroteTheRecord_StopsGrantingAndSuccessorTakesTheTableOver()
    {
        var name = Unique.Name("fenced");
        var limiter = fixture.Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);
        await limiter.SetLimitsAsync(new LimiterLimits(5));
        var lease = (await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero))).Lease!;
        var epoch = (await limiter.GetStatusAsync()).Epoch;

        // What a second activation's claim does to storage: the ETag this activation holds is no longer current.
        var key = fixture.Store.Keys.Single(k => k.Contains(name, StringComparison.Ordinal));
        fixture.Store[key] = ("someone-else", fixture.Store[key].State);

        // Its next write (a grant, or the confirm within ConfirmInterval) is rejected: from then on it grants nothing,
        // answers "moved", and deactivates; its successor claims a newer epoch.
        var refusals = new HashSet<AcquireFailure>();
        await Eventually.TrueAsync(async () =>
        {
            var result = await limiter.AcquireAsync(new AcquireRequest("h", 1, TimeSpan.Zero));
            if (result.Lease is { } early)
            {
                Assert.Empty(refusals);
                await limiter.ReleaseAsync(early.LeaseId);
                return false;
            }

            refusals.Add(result.Failure);
            return (await limiter.GetStatusAsync()).Epoch > epoch;
        }, tolerateErrors: true);
        // The successor took the lease table over from storage: the holder's lease keeps counting and renews there.
        var successor = await limiter.GetStatusAsync();
        Assert.Equal((1, 1L), (successor.InUse, successor.Restored));
        Assert.Equal(new HashSet<AcquireFailure> { AcquireFailure.Fenced }, refusals);
        Assert.NotNull(await limiter.RenewAsync(RenewRequest.For(lease)));
        Assert.Equal(1, (await limiter.GetStatusAsync()).InUse);
    }
}
