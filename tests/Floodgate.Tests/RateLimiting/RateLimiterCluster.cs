using System.Collections.Concurrent;
using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Floodgate.Limiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;

namespace Floodgate.Tests.RateLimiting;

/// <summary>
/// A one-silo cluster for the rate limiter adapter's tests, with <see cref="GrantHold"/> installed: a test can hold a
/// granted lease on its way back to the caller, which makes "the caller gave up while its grant was in transit" exact.
/// </summary>
public sealed class RateLimiterCluster : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IFloodgateClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>()).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorageAsDefault();
            silo.AddFloodgate(configuration);
            silo.AddIncomingGrainCallFilter<GrantHold>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new FloodgateClient(Cluster.Client, Options.Create(new FloodgateClientOptions { ClientId = "rate-limiter-tests" }));
    }

    public IGlobalLimiterGrain Limiter(string name) => Cluster.Client.GetGrain<IGlobalLimiterGrain>(name);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class RateLimiterClusterCollection : ICollectionFixture<RateLimiterCluster>
{
    public const string Name = "rate-limiter-cluster";
}

/// <summary>
/// Holds (or loses) the answer of the next granted acquire of an armed limiter after the limiter granted it, until the
/// test opens the hold: the lease is counted as in use while its caller has not received it.
/// </summary>
public sealed class GrantHold : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, GrantHold.Gate> Gates = new(StringComparer.Ordinal);

    /// <summary>Holds the next grant of <paramref name="limiter"/>; dispose the gate to let it through.</summary>
    public static Gate Arm(string limiter) => Gates[limiter] = new Gate(limiter);

    /// <summary>Loses the answer to the next grant of <paramref name="limiter"/>: granted, but its caller gets an error.</summary>
    public static Gate ArmLostAnswer(string limiter) => Gates[limiter] = new Gate(limiter, loseAnswer: true);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        await context.Invoke();
        if (context.Grain is IGlobalLimiterGrain
            && context.InterfaceMethod.Name == nameof(IGlobalLimiterGrain.AcquireAsync)
            && context.Result is AcquireResult { Granted: true }
            && Gates.TryRemove(context.TargetId.Key.ToString()!, out var gate))
        {
            gate.Holding.TrySetResult();
            if (gate.LoseAnswer)
            {
                throw new TimeoutException("Injected: the answer to a granted acquire was lost.");
            }

            await gate.Opened.Task;
        }
    }

    /// <summary>One armed hold.</summary>
    public sealed class Gate(string limiter, bool loseAnswer = false) : IDisposable
    {
        internal bool LoseAnswer { get; } = loseAnswer;

        internal TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a grant is held.</summary>
        public Task GrantHeld => Holding.Task;

        public void Dispose()
        {
            Gates.TryRemove(limiter, out _);
            Opened.TrySetResult();
        }
    }
}
