using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Floodgate.Api.Tests.Infrastructure;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Hosting;
using Floodgate.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Diagnostics;

namespace Floodgate.Api.Tests;

/// <summary>
/// A batch submitted over HTTP with a <c>traceparent</c> gives one trace: the request, the batch span and every item
/// attempt with its permit wait and upstream call, carried through the grains by Orleans' activity propagation.
/// </summary>
public sealed class TracingTests(KeyedApiSilo silo) : IClassFixture<KeyedApiSilo>
{
    [Fact]
    public async Task SubmitOverHttp_WithTraceparent_BatchAndItemSpansShareTheTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans);
        var traceId = ActivityTraceId.CreateRandom();
        var limiter = ApiSilo.UniqueName("traced");

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/batches")
        {
            Content = new StringContent($$"""{ "items": [1, 2, 3, 4], "processor": "echo", "limiter": "{{limiter}}", "localLimit": 2 }""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", silo.ClientKey);
        var callerSpan = ActivitySpanId.CreateRandom();
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        var submitted = await ApiAssert.JsonAsync(await silo.Http.SendAsync(request), HttpStatusCode.Created);
        var id = submitted.GetProperty("batchId").GetString()!;
        await (await silo.SendAsync(HttpMethod.Get, $"/api/batches/{id}/results", key: silo.ClientKey)).Content.ReadAsStringAsync();

        var batch = await BatchSpanAsync(spans, traceId);
        var trace = Traced(spans, traceId);
        Assert.Equal(id, batch.GetTagItem("floodgate.batch.id"));
        Assert.Equal(true, batch.GetTagItem("floodgate.batch.finished"));
        Assert.Equal(4, batch.GetTagItem("floodgate.batch.succeeded"));
        var httpRequest = Assert.Single(trace, s => s.ParentSpanId == callerSpan);
        Assert.True(DescendsFrom(batch, httpRequest, trace), "the batch span is a descendant of the HTTP request's span");

        var attempts = trace.Where(s => s.OperationName == FloodgateTracing.ItemAttemptSpan).ToList();
        Assert.Equal([0, 1, 2, 3], attempts.Select(a => (int)a.GetTagItem("floodgate.item.position")!).Order());
        foreach (var attempt in attempts)
        {
            Assert.True(DescendsFrom(attempt, batch, trace), "an item attempt is a descendant of its batch span");
            Assert.Single(trace, s => s.OperationName == FloodgateTracing.PermitWaitSpan && s.ParentSpanId == attempt.SpanId);
            Assert.Single(trace, s => s.OperationName == FloodgateTracing.UpstreamCallSpan && s.ParentSpanId == attempt.SpanId);
        }
    }

    [Fact]
    public async Task SubmitThroughOrleansSdk_InsideCallersActivity_BatchSpanJoinsTheCallersTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseFloodgateClient(c =>
        {
            c.Gateways = [silo.Gateway];
            c.ClusterId = silo.ClusterId;
        });
        using var host = builder.Build();
        await host.StartAsync();
        var floodgate = host.Services.GetRequiredService<IFloodgateClient>();
        using var caller = new ActivitySource("Floodgate.Tests.Caller");
        ActivityTraceId traceId;
        string id;

        using (var operation = caller.StartActivity("caller"))
        {
            traceId = operation!.TraceId;
            var batch = await floodgate.SubmitBatchAsync(new BatchSpec { Items = ["1", "2"], Processor = "echo", Limiter = ApiSilo.UniqueName("traced-sdk") });
            id = batch.Id;
            await batch.WaitForCompletionAsync();
        }

        var batchSpan = await BatchSpanAsync(spans, traceId);
        Assert.Equal(id, batchSpan.GetTagItem("floodgate.batch.id"));
        Assert.Equal(2, Traced(spans, traceId).Count(s => s.OperationName == FloodgateTracing.ItemAttemptSpan));
        await host.StopAsync();
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> spans)
    {
        var listener = new ActivityListener
        {
            // What the silo's OpenTelemetry tracer listens to, and the test's own caller.
            ShouldListenTo = source => source.Name is FloodgateTracing.SourceName or "Microsoft.AspNetCore" or "Floodgate.Tests.Caller"
                || source.Name == ActivitySources.ApplicationGrainActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>The batch span ends with the write that makes the last outcome durable, just after the results are served.</summary>
    private static async Task<Activity> BatchSpanAsync(IEnumerable<Activity> spans, ActivityTraceId traceId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!Traced(spans, traceId).Any(s => s.OperationName == FloodgateTracing.BatchSpan) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return Assert.Single(Traced(spans, traceId), s => s.OperationName == FloodgateTracing.BatchSpan);
    }

    private static List<Activity> Traced(IEnumerable<Activity> spans, ActivityTraceId traceId) =>
        spans.Where(s => s.TraceId == traceId).ToList();

    private static bool DescendsFrom(Activity span, Activity ancestor, List<Activity> trace)
    {
        for (var parent = span.ParentSpanId; parent != default;)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }

            parent = trace.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? default;
        }

        return false;
    }
}
