using Floodgate.Silo.Demo;
using Floodgate.Silo.Hosting;

// `dotnet run --project Silo` runs a silo; `dotnet run --project Silo -- demo` runs the self-contained demo.
if (args.Length > 0 && args[0] == "demo")
{
    return await DemoRunner.RunFromCommandLineAsync(args[1..]);
}

return await SiloCommand.RunAsync(args, Console.Out, Console.Error);
