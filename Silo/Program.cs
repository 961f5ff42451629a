using Floodgate.Silo.Demo;
using Floodgate.Silo.Hosting;
using Floodgate.Validation;

// `dotnet run --project Silo` runs a silo; `dotnet run --project Silo -- demo` runs the self-contained demo.
if (args.Length > 0 && args[0] == "demo")
{
    return await DemoRunner.RunFromCommandLineAsync(args[1..]);
}

try
{
    var app = FloodgateSiloHost.Build(args);
    await app.RunAsync();
    return 0;
}
catch (FloodgateValidationException ex)
{
    await Console.Error.WriteLineAsync($"error: invalid configuration: {ex.Message}");
    return 2;
}
catch (Microsoft.Extensions.Options.OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync($"error: invalid configuration: {string.Join(" ", ex.Failures)}");
    return 2;
}
