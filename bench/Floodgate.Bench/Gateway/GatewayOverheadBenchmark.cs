using System.Diagnostics;
using System.Globalization;
using System.Text;
using Floodgate.Silo.Hosting;
using Floodgate.Simulator;

namespace Floodgate.Bench.Gateway;

/// <summary>
/// The latency the gateway adds to one model call: the same chat request sent straight to the simulator and through a
/// silo's gateway (virtual key check, body read, permit acquire + usage report + release on the global limiter, YARP
/// forwarding), interleaved one by one in the same run so both see the same machine. Reported as p50/p99 of each and of
/// the difference; the simulator answers at once (no latency), so the figures are the gateway's own cost.
/// </summary>
internal static class GatewayOverheadBenchmark
{
    public const string SectionHeading = "## Gateway overhead: added latency per request";

    private const string Key = "bench-gateway-key-0123456789";

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = int.Parse(Option(args, "--requests") ?? "2000", CultureInfo.InvariantCulture);
        var writeTo = Option(args, "--write");

        await using var simulator = await SimulatorServer.StartAsync(new SimulatorOptions { LatencyMs = 0, MaxConcurrency = 0 });
        var silo = FloodgateSiloHost.Build([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
            ["Floodgate:Silo:SiloPort"] = FreeTcpPort.Next().ToString(CultureInfo.InvariantCulture),
            ["Floodgate:Silo:GatewayPort"] = FreeTcpPort.Next().ToString(CultureInfo.InvariantCulture),
            ["Floodgate:Silo:Dashboard"] = "false",
            ["Floodgate:Gateway:Upstreams:sim:BaseUrl"] = simulator.BaseUrl.ToString(),
            ["Floodgate:Gateway:Upstreams:sim:MaxConcurrency"] = "64",
            ["Floodgate:Gateway:Keys:0:Key"] = Key,
            ["Floodgate:Gateway:Keys:0:Tenant"] = "bench",
        });
        await silo.StartAsync();
        try
        {
            using var http = new HttpClient();
            var direct = new Uri(simulator.BaseUrl, "v1/chat/completions");
            var gateway = new Uri(new Uri(silo.Urls.First().TrimEnd('/') + "/"), "v1/chat/completions");

            // Warm-up: JIT, connection pools, the limiter's activation.
            for (var i = 0; i < 200; i++)
            {
                await SendAsync(http, direct, i);
                await SendAsync(http, gateway, i);
            }

            var directTimes = new List<double>(requests);
            var gatewayTimes = new List<double>(requests);
            for (var i = 0; i < requests; i++)
            {
                directTimes.Add(await SendAsync(http, direct, i));
                gatewayTimes.Add(await SendAsync(http, gateway, i));
            }

            var added = gatewayTimes.Zip(directTimes, (g, d) => g - d).ToList();
            var stats = simulator.GetStats();
            var report = new StringBuilder()
                .AppendLine("| path | p50 | p99 |")
                .AppendLine("|---|---|---|")
                .AppendLine(CultureInfo.InvariantCulture, $"| straight to the simulator (baseline) | {Percentile(directTimes, 50):0.00} ms | {Percentile(directTimes, 99):0.00} ms |")
                .AppendLine(CultureInfo.InvariantCulture, $"| through the gateway | {Percentile(gatewayTimes, 50):0.00} ms | {Percentile(gatewayTimes, 99):0.00} ms |")
                .AppendLine(CultureInfo.InvariantCulture, $"| **added by the gateway** (per request pair) | **{Percentile(added, 50):0.00} ms** | **{Percentile(added, 99):0.00} ms** |")
                .ToString();
            Console.WriteLine(report);
            if (writeTo is not null)
            {
                var section = $"""
                    {SectionHeading}

                    Produced by `dotnet run -c Release --project bench/Floodgate.Bench -- gateway --requests {requests} --write bench/BENCHMARKS.md`
                    on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} cores, .NET {Environment.Version}): one silo (in-memory storage) with
                    its gateway in front of the simulator (no latency, no limit), one client sending the same small chat request
                    alternately straight to the simulator and through the gateway with a virtual key, {requests} of each after 200 of
                    each to warm up, all in one process.

                    {report}
                    - *Added*: gateway time minus the direct time of the request sent just before it, so both see the same moment
                      of the machine. It covers the key check, reading the body for the token estimate, acquiring a permit of
                      `gateway:sim` (a grain call and its group-committed write of the lease table), YARP's forwarding, the
                      usage report and the release (two more grain calls), and the response copied back.
                    - The simulator counted {stats.TotalRequests} requests ({stats.Completed} answered 200).
                    """;
                await BenchmarksFile.WriteSectionAsync(writeTo, SectionHeading, section);
            }

            return stats.Completed == stats.TotalRequests ? 0 : 1;
        }
        finally
        {
            await silo.StopAsync();
            await silo.DisposeAsync();
        }
    }

    private static async Task<double> SendAsync(HttpClient http, Uri uri, int i)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new StringContent($$"""{"model":"m","messages":[{"role":"user","content":"benchmark question {{i}}"}],"max_tokens":16}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        return elapsed;
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
