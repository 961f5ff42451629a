// Standalone simulator of an AI model provider account.
//
//   dotnet run --project src/Floodgate.Simulator -- --urls http://127.0.0.1:5090 --Simulator:MaxConcurrency=5
//
// Options come from the "Simulator" configuration section: appsettings.json, environment variables
// (Simulator__LatencyMs=50) and the command line (--Simulator:LatencyMs=50). Default address: http://127.0.0.1:5090.
using System.Globalization;
using Floodgate.Simulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

if (!SimulatorApp.TryLoadOptions(builder.Configuration, out SimulatorOptions? options, out IReadOnlyList<string> errors))
{
    Console.Error.WriteLine($"Invalid simulator configuration (section '{SimulatorOptions.SectionName}'):");
    foreach (string error in errors)
    {
        Console.Error.WriteLine($"  - {error}");
    }

    return 2;
}

SimulatorApp.UseDefaultUrlIfNoneConfigured(builder);
WebApplication app = SimulatorApp.Build(builder, options);

app.Lifetime.ApplicationStarted.Register(() =>
{
    ICollection<string> addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    app.Logger.LogInformation(
        "Floodgate simulator listening on {Addresses}: MaxConcurrency={MaxConcurrency}, RequestsPerMinute={RequestsPerMinute}, LatencyMs={LatencyMs}, LatencyJitterMs={LatencyJitterMs}, ErrorRate={ErrorRate}, RetryAfterSeconds={RetryAfterSeconds}, API key {ApiKeyState}",
        string.Join(", ", addresses),
        options.MaxConcurrency,
        options.RequestsPerMinute,
        options.LatencyMs,
        options.LatencyJitterMs,
        options.ErrorRate.ToString(CultureInfo.InvariantCulture),
        options.RetryAfterSeconds,
        options.RequiresApiKey ? "required" : "not required");
});

try
{
    await app.RunAsync();
}
catch (IOException ex)
{
    // Typically "address already in use".
    Console.Error.WriteLine($"The simulator could not start: {ex.Message}");
    return 1;
}

return 0;
