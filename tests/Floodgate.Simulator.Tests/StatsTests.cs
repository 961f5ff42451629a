using System.Net;
using System.Text.Json;

namespace Floodgate.Simulator.Tests;

public sealed class StatsTests
{
    [Fact]
    public async Task ResetStats_AfterTraffic_ZeroesAllCounters()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0, ApiKey = "k" });
        (await sim.ChatAsync("ok", bearer: "k")).Dispose();
        (await sim.ChatAsync("[fail:500]", bearer: "k")).Dispose();
        (await sim.ChatAsync("[fail:404]", bearer: "k")).Dispose();
        (await sim.ChatAsync("[fail:429]", bearer: "k")).Dispose();
        (await sim.ChatAsync("no key")).Dispose();
        Assert.Equal(new SimulatorStats(4, 1, 1, 1, 1, 1, 0, 1), sim.Server.GetStats());

        sim.Server.ResetStats();

        Assert.Equal(new SimulatorStats(0, 0, 0, 0, 0, 0, 0, 0), sim.Server.GetStats());
    }

    [Fact]
    public async Task StatsEndpoints_AfterTraffic_ReportCamelCaseAndResetWith204()
    {
        await using var sim = await TestSimulator.StartAsync(new SimulatorOptions { LatencyMs = 0 });
        (await sim.ChatAsync("one")).Dispose();
        (await sim.ChatAsync("[fail:400]")).Dispose();

        using (var stats = await sim.Http.GetAsync("stats"))
        {
            Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
            JsonElement body = await TestSimulator.ReadJsonAsync(stats);
            Assert.Equal(2, body.GetProperty("totalRequests").GetInt64());
            Assert.Equal(1, body.GetProperty("completed").GetInt64());
            Assert.Equal(0, body.GetProperty("rateLimited").GetInt64());
            Assert.Equal(0, body.GetProperty("serverErrors").GetInt64());
            Assert.Equal(1, body.GetProperty("clientErrors").GetInt64());
            Assert.Equal(0, body.GetProperty("unauthorized").GetInt64());
            Assert.Equal(0, body.GetProperty("currentConcurrent").GetInt32());
            Assert.Equal(1, body.GetProperty("maxConcurrent").GetInt32());
        }

        using (var reset = await sim.Http.PostAsync("stats/reset", content: null))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }

        Assert.Equal(new SimulatorStats(0, 0, 0, 0, 0, 0, 0, 0), sim.Server.GetStats());
    }
}
