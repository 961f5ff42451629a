using System.Net.Http.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Grains.Hosting;
using Floodgate.Limiting;
using Floodgate.Simulator;
using Floodgate.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;

namespace Floodgate.Tests.Items;

/// <summary>
/// An item holding limiter A waits for limiter B; meanwhile its lease on A is lost and A grants the permit to someone
/// else. The item must not call upstream on the lost permit. Its own cluster: leases here live 2 s.
/// </summary>
public sealed class NestedLeaseLossTests : IAsyncLifetime
{
    private SimulatorServer _simulator = null!;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorServer.StartAsync(new SimulatorOptions { MaxConcurrency = 0, LatencyMs = 200 });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Floodgate:Processors:OpenAiChat:BaseUrl"] = _simulator.BaseUrl.ToString(),
            ["Floodgate:Limiters:DefaultLeaseTtl"] = "00:00:02",
            ["Floodgate:Limiters:SweepInterval"] = "00:00:00.200",
            ["Floodgate:Limiters:ConfirmInterval"] = "00:00:01",
            ["Floodgate:Items:AttemptTimeout"] = "00:00:01.500",
            ["Floodgate:Items:BaseDelay"] = "00:00:00.050",
            ["Floodgate:Items:MaxDelay"] = "00:00:00.200",
        }).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            silo.AddFloodgate(configuration);
            silo.AddIncomingGrainCallFilter<FaultInjectionFilter>();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        FaultInjectionFilter.DropRenewals = false;
        await _cluster.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Item_EarlierLeaseLostWhileWaitingForALaterLimiter_NeverCallsUpstreamOnTheLostPermit()
    {
        var prefix = Unique.Name("nested");
        var (a, b) = ($"{prefix}-a", $"{prefix}-b");
        var client = new FloodgateClient(_cluster.Client, Options.Create(new FloodgateClientOptions { ClientId = "outsider" }));
        await client.SetLimitsAsync(a, new LimiterLimits(1));
        await client.SetLimitsAsync(b, new LimiterLimits(1));
        var blocker = await client.AcquireAsync(b);

        FaultInjectionFilter.DropRenewals = true;
        var handle = await client.SubmitBatchAsync(
            new BatchSpec { Items = TestItems.Words(1), Processor = "openai-chat", Limiter = a, AdditionalLimiters = [b], LocalLimit = 1 },
            batchId: FaultInjectionFilter.DropRenewalsHolderPrefix + prefix);

        // The item holds A and waits for B; its renewals of A are lost, so A's lease expires.
        await Eventually.TrueAsync(async () => (await client.GetLimiterStatusAsync(b)).Waiting == 1);
        await Eventually.TrueAsync(async () => (await client.GetLimiterStatusAsync(a)).Expirations == 1);
        FaultInjectionFilter.DropRenewals = false;

        // Someone else now rightly holds A and calls upstream while B is handed to the waiting item.
        await using (await client.AcquireAsync(a))
        {
            using var http = new HttpClient { BaseAddress = _simulator.BaseUrl };
            await blocker.DisposeAsync();
            for (var i = 0; i < 8; i++)
            {
                using var response = await http.PostAsJsonAsync("v1/chat/completions", new { messages = new[] { new { role = "user", content = "outsider" } } });
            }
        }

        var final = await handle.WaitForCompletionAsync();
        Assert.Equal(1, final.Succeeded);
        Assert.Equal(1, _simulator.GetStats().MaxConcurrent);
    }
}
