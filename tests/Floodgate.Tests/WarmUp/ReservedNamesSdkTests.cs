using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Leases;
using Floodgate.Grains.WarmUp;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.Extensions.Options;

namespace Floodgate.Tests.WarmUp;

/// <summary>
/// The SDK refuses the warm-up's reserved names before anything reaches the cluster (nothing is stored, no batch is
/// made), while the warm-up's own pass still reaches its batch.
/// </summary>
public sealed class ReservedNamesSdkTests(WarmUpClusterFixture fixture) : IClassFixture<WarmUpClusterFixture>
{
    private const string Refusal = "names starting with 'floodgate-warm-up.' are reserved for the silo's start-up warm-up";

    public static TheoryData<string> Operations =>
    [
        "submit batch id", "submit limiter", "submit breaker", "submit additional limiter", "submit idempotency key",
        "stream limiter", "stream batch id", "get batch", "set limits", "limiter status", "acquire", "acquire all",
        "try acquire", "report usage", "renew", "release", "release one way", "cancel acquire", "rate limiter", "breaker status",
    ];

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Operation_ReservedName_RefusedAndNothingCreated(string operation)
    {
        var reserved = WarmUpNames.NewRun();
        var batchId = "b-reserved-" + Guid.NewGuid().ToString("N")[..10];
        var client = NewClient();

        var refused = await Assert.ThrowsAsync<FloodgateValidationException>(() => RunAsync(operation, client, reserved, batchId));

        Assert.Contains(Refusal, refused.Message);
        Assert.Contains(reserved, refused.Message);
        Assert.DoesNotContain(fixture.Store.Keys, k => k.Contains(reserved, StringComparison.Ordinal) || k.Contains(batchId, StringComparison.Ordinal));
        foreach (var id in new[] { batchId, reserved, BatchIds.New(reserved) })
        {
            await Assert.ThrowsAsync<FloodgateNotFoundException>(() => fixture.Cluster.Client.GetGrain<IBatchGrain>(id).GetProgressAsync());
        }
    }

    [Fact]
    public async Task WarmUpPass_ItsOwnPassAndAWarmUpName_ReachesTheBatch()
    {
        var pass = NewPass();
        var name = WarmUpNames.NewRun();
        await fixture.Cluster.Client.GetGrain<IBatchGrain>(name).OpenAsync(
            new BatchDefinition { Processor = "echo", Limiter = name, LocalLimit = 2 }, uploadId: name);
        try
        {
            var batch = pass.Batch(name, pass.Value);

            Assert.NotNull(batch);
            Assert.Equal(name, (await batch.GetProgressAsync()).BatchId);
        }
        finally
        {
            await fixture.Cluster.Client.GetGrain<IBatchGrain>(name).AbortUploadAsync(name);
        }
    }

    [Fact]
    public void WarmUpPass_OtherPassNoPassOrAnOrdinaryName_GivesNothing()
    {
        var pass = NewPass();
        var name = WarmUpNames.NewRun();

        Assert.Null(pass.Batch(name, NewPass().Value));
        Assert.Null(pass.Batch(name, presented: null));
        Assert.Null(pass.Batch(name, pass.Value[..^1]));
        Assert.Null(pass.Batch("b-ordinary", pass.Value));
        Assert.Null(pass.Batch(WarmUpNames.Prefix + "/0", pass.Value));
    }

    private static Task RunAsync(string operation, IFloodgateClient client, string reserved, string batchId)
    {
        var spec = new BatchSpec { Items = ["1"], Processor = "echo", Limiter = "ok-limiter", LocalLimit = 1 };
        return operation switch
        {
            "submit batch id" => client.SubmitBatchAsync(spec, reserved),
            "submit limiter" => client.SubmitBatchAsync(spec with { Limiter = reserved }, batchId),
            "submit breaker" => client.SubmitBatchAsync(spec with { Breaker = reserved }, batchId),
            "submit additional limiter" => client.SubmitBatchAsync(spec with { AdditionalLimiters = [reserved] }, batchId),
            "submit idempotency key" => client.SubmitBatchAsync(spec with { IdempotencyKey = reserved }),
            "stream limiter" => client.SubmitBatchAsync(spec.ToDefinition() with { Limiter = reserved }, Items(), batchId),
            "stream batch id" => client.SubmitBatchAsync(spec.ToDefinition(), Items(), reserved),
            "get batch" => Task.FromResult(client.GetBatch(reserved)),
            "set limits" => client.SetLimitsAsync(reserved, new LimiterLimits(5)),
            "limiter status" => client.GetLimiterStatusAsync(reserved),
            "acquire" => client.AcquireAsync(reserved),
            "acquire all" => client.AcquireAllAsync(new LeaseSetRequest(["ok-limiter", reserved])),
            "try acquire" => client.TryAcquireLeaseAsync(reserved, new AcquireRequest("holder", 1, TimeSpan.Zero)),
            "report usage" => client.ReportUsageAsync(reserved, new UsageReport("holder", null, UsageOutcome.Completed)),
            "renew" => client.RenewLeaseAsync(reserved, new RenewRequest("lease-1")),
            "release" => client.ReleaseLeaseAsync(reserved, "lease-1"),
            "release one way" => Task.Run(() => client.ReleaseLeaseOneWay(reserved, "lease-1")),
            "cancel acquire" => client.CancelAcquireAsync(reserved, "request-1"),
            "rate limiter" => Task.FromResult(client.GetRateLimiter(reserved)),
            "breaker status" => client.GetBreakerStatusAsync(reserved),
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
        };
    }

    private static async IAsyncEnumerable<string> Items()
    {
        await Task.Yield();
        yield return "1";
    }

    private IFloodgateClient NewClient() =>
        new FloodgateClient(fixture.Cluster.Client, Options.Create(new FloodgateClientOptions { ClientId = "reserved-names-test" }));

    private WarmUpPass NewPass() =>
        new(fixture.Cluster.Client, Options.Create(new FloodgateClientOptions()), TimeProvider.System);
}
