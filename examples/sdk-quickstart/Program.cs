using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client;
using Floodgate.Client.Formatting;
using Floodgate.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Submit a batch, watch it, read its results in input order, then hold a lease of the same account around a call of
// your own. Argument: a silo's gateway (default 127.0.0.1:30000, what `dotnet run --project Silo` listens on).
var builder = Host.CreateApplicationBuilder();
builder.UseFloodgateClient(c => c.Gateways = [args.FirstOrDefault() ?? "127.0.0.1:30000"]);
using var app = builder.Build();
await app.StartAsync();                                            // connects the Orleans client
var floodgate = app.Services.GetRequiredService<IFloodgateClient>();
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
var ct = cancel.Token;

string[] words = ["serendipity", "ephemeral", "ubiquitous"];
var batch = await floodgate.SubmitBatchAsync(new BatchSpec
{
    Items = words.Select(w => JsonSerializer.Serialize(w)).ToList(),
    Processor = "echo",                                            // "openai-chat" once the silo has an upstream
    Limiter = "openai:acct-1",
    LocalLimit = 8,
    GlobalLimit = 10,
});
await foreach (var progress in batch.WatchAsync(ct))
{
    Console.WriteLine(ProgressText.Describe(progress));
}

await foreach (var outcome in batch.ReadResultsAsync(ct))
{
    Console.WriteLine($"{outcome.Position}: {outcome.Status} {outcome.Result}");
}

await using (var lease = await floodgate.AcquireAsync("openai:acct-1", weight: 1, TimeSpan.FromSeconds(30), ct))
{
    Console.WriteLine($"holding lease {lease.Lease.LeaseId} until the call is done");   // renewed in the background
}                                                                                         // released here

await app.StopAsync();
