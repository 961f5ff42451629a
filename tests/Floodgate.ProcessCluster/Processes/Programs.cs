using System.Reflection;

namespace Floodgate.ProcessCluster.Processes;

/// <summary>
/// Where the programs the harness runs are: the <c>dotnet</c> host, and the built DLLs of Silo, the simulator and the
/// lease holder (paths baked in at build time by the project file; <c>FLOODGATE_{KEY}_DLL</c> overrides one).
/// </summary>
public static class Programs
{
    public static string SiloDll => Dll("Silo");

    public static string SimulatorDll => Dll("Simulator");

    public static string LeaseHolderDll => Dll("LeaseHolder");

    /// <summary>The <c>dotnet</c> host: the one running the tests (<c>DOTNET_HOST_PATH</c>), else the first on PATH.</summary>
    public static string Dotnet
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            {
                return host;
            }

            if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                return self;
            }

            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, "dotnet"))
                .FirstOrDefault(File.Exists);
            return onPath ?? throw new InvalidOperationException("The dotnet host was not found (set DOTNET_HOST_PATH).");
        }
    }

    private static string Dll(string key)
    {
        var path = Environment.GetEnvironmentVariable($"FLOODGATE_{key.ToUpperInvariant()}_DLL")
            ?? typeof(Programs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == $"Floodgate.ProcessPath.{key}")?.Value
            ?? throw new InvalidOperationException($"No path of the {key} program was baked into {typeof(Programs).Assembly.GetName().Name}.");
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"The {key} program is not built at {path}; build the solution first.");
    }
}
