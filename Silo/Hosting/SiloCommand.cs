using Floodgate.Grains.Batches;
using Floodgate.Grains.Breakers;
using Floodgate.Grains.Items;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.Processors.OpenAiChat;
using Floodgate.Silo.Api;
using Floodgate.Silo.WebConsole;
using Floodgate.Validation;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using ModelGatewayOptions = Floodgate.Gateway.GatewayOptions;

namespace Floodgate.Silo.Hosting;

/// <summary>
/// <c>dotnet Floodgate.Silo.dll</c>: runs one silo until Ctrl+C or SIGTERM. Every configuration mistake (an unknown key,
/// a value that does not convert or is out of range, a port in use) stops it with one line on stderr and exit code 2;
/// a good start prints where it listens.
/// </summary>
public static class SiloCommand
{
    /// <summary>Exit code of a configuration mistake (the simulator and CLI use the same).</summary>
    public const int ConfigurationError = 2;

    /// <summary>Root of every Floodgate setting; keys under it that no options class binds are rejected.</summary>
    public const string Root = "Floodgate";

    /// <summary>Every options section the silo binds, and the options type bound there.</summary>
    public static IReadOnlyDictionary<string, Type> Sections { get; } = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        [SiloOptions.SectionName] = typeof(SiloOptions),
        [ApiOptions.SectionName] = typeof(ApiOptions),
        [LimiterOptions.SectionName] = typeof(LimiterOptions),
        [CircuitBreakerOptions.SectionName] = typeof(CircuitBreakerOptions),
        [ItemProcessingOptions.SectionName] = typeof(ItemProcessingOptions),
        [BatchOptions.SectionName] = typeof(BatchOptions),
        [OpenAiChatOptions.SectionName] = typeof(OpenAiChatOptions),
        [ModelGatewayOptions.SectionName] = typeof(ModelGatewayOptions),
    };

    /// <summary>
    /// The host logs a failed start or stop with the whole stack trace and then throws the same exception to
    /// <see cref="RunAsync"/>, which prints it (one line when it is a configuration mistake, in full otherwise).
    /// </summary>
    private static readonly Dictionary<string, string?> QuietStartFailures = new()
    {
        ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "Critical",
    };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        WebApplication app;
        try
        {
            app = FloodgateSiloHost.Build(args, QuietStartFailures);
        }
        catch (FloodgateValidationException ex)
        {
            return await FailAsync(error, $"error: invalid configuration: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // Build binds Floodgate:Silo; the binder throws this for a value that does not convert.
            return await FailAsync(error, $"error: invalid configuration: {ex.Message}");
        }

        if (CheckConfiguration(app.Configuration) is { Count: > 0 } problems)
        {
            return await FailAsync(error, [.. problems]);
        }

        if (ListenPort.Of(app).FirstOrDefault(p => p.IsInUse()) is { } taken)
        {
            return await FailAsync(error, taken.InUseMessage());
        }

        try
        {
            // What StartAsync would check first, checked here so its failure is not logged with a stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.StartAsync();
        }
        catch (OptionsValidationException ex)
        {
            return await FailAsync(error, $"error: invalid configuration: {string.Join(" ", ex.Failures)}");
        }
        catch (AggregateException ex) when (ex.Flatten().InnerExceptions.All(e => e is OptionsValidationException))
        {
            // Several options types failed (one failure can surface through every validator that reads those options).
            var failures = ex.Flatten().InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures).Distinct();
            return await FailAsync(error, $"error: invalid configuration: {string.Join(" ", failures)}");
        }
        catch (IOException ex) when (ex.InnerException is AddressInUseException)
        {
            // Kestrel, when a port was taken between the check above and the bind; its message names the address.
            return await FailAsync(error, $"error: {ex.Message} (Urls)");
        }
        catch (AddressInUseException)
        {
            // Orleans' listeners, same race; they do not say which port.
            var silo = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
            return await FailAsync(
                error,
                $"error: the silo port {silo.SiloPort} or the gateway port {silo.GatewayPort} ({SiloOptions.SectionName}:SiloPort / GatewayPort) is already in use by another process");
        }

        foreach (var line in ListeningLines(app))
        {
            await output.WriteLineAsync(line);
        }

        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }

    /// <summary>
    /// Unknown keys under <see cref="Root"/>, then values that do not convert to their option's type, each as one line.
    /// Binding here (not only when the options are first used) makes a bad value a start-up error in every section.
    /// </summary>
    public static IReadOnlyList<string> CheckConfiguration(IConfiguration configuration)
    {
        var problems = ConfigurationKeys.FindUnknown(configuration, Root, Sections).ToList();
        foreach (var (section, type) in Sections)
        {
            try
            {
                configuration.GetSection(section).Get(type);
            }
            catch (InvalidOperationException ex)
            {
                problems.Add($"error: invalid configuration: {ex.Message}");
            }
        }

        return problems;
    }

    /// <summary>One line per endpoint: HTTP URL(s), the dashboard when it is on, the console, the silo and gateway endpoints.</summary>
    public static IEnumerable<string> ListeningLines(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var silo = app.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();
        foreach (var url in app.Urls)
        {
            yield return $"listening: HTTP {url}";
        }

        if (silo.Dashboard)
        {
            foreach (var url in app.Urls)
            {
                yield return $"listening: dashboard {url.TrimEnd('/')}/dashboard";
            }
        }

        foreach (var url in app.Urls)
        {
            yield return $"listening: console {url.TrimEnd('/')}{ConsoleEndpoints.Path}";
        }

        foreach (var port in ListenPort.Of(app).Where(p => p.What is "silo" or "gateway"))
        {
            yield return $"listening: {port.What} {port.Endpoint}";
        }
    }

    private static async Task<int> FailAsync(TextWriter error, params string[] lines)
    {
        foreach (var line in lines)
        {
            await error.WriteLineAsync(line);
        }

        return ConfigurationError;
    }
}
