using Floodgate.Client.References;
using Floodgate.Grains.Batches;
using Floodgate.Grains.Breakers;
using Floodgate.Grains.Caching;
using Floodgate.Grains.Draining;
using Floodgate.Grains.Items;
using Floodgate.Grains.Limiting;
using Floodgate.Grains.Processors;
using Floodgate.Grains.Processors.Http;
using Floodgate.Grains.Processors.OpenAi;
using Floodgate.Grains.Processors.OpenAiChat;
using Floodgate.Grains.Processors.OpenAiEmbeddings;
using Floodgate.Grains.Processors.Replicate;
using Floodgate.Grains.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;

namespace Floodgate.Grains.Hosting;

/// <summary>Registers Floodgate's grains' services, options and built-in processors in a silo.</summary>
public static class FloodgateSiloExtensions
{
    /// <summary>
    /// Adds Floodgate to a silo: options bound from <paramref name="configuration"/> (sections <c>Floodgate:*</c>) and
    /// validated at start, the processor registry with <c>echo</c>, <c>delay</c>, <c>openai-chat</c>, <c>openai-embeddings</c>, <c>http</c> and
    /// <c>replicate</c>, the shared result cache, and the item
    /// pipelines. Register more processors with <see cref="AddItemProcessor{T}"/>.
    /// </summary>
    public static ISiloBuilder AddFloodgate(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddFloodgateGrainServices(configuration);

        // Every item of every batch is a grain of its own ({batchId}/{position}), looked up about once: Orleans' default
        // directory cache (1,000,000 entries) would keep ~450 bytes per item for good, so a silo's memory would grow with
        // every batch until a million items had passed. The grains worth caching (limiters, breakers, batches) are few.
        silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = Math.Min(o.CacheSize, DirectoryCacheSize));
        return silo;
    }

    /// <summary>Most grain locations a silo caches (see <see cref="AddFloodgate"/>).</summary>
    public const int DirectoryCacheSize = 10_000;

    /// <summary>The service registrations behind <see cref="AddFloodgate"/>.</summary>
    public static IServiceCollection AddFloodgateGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FloodgateMetrics>();

        // Grain state (batch specs, outcomes, limiter records) is stored with the Orleans serializer: the state types
        // are [GenerateSerializer] records with stable ids, which the default JSON storage serializer cannot rebuild.
        services.AddSingleton<IGrainStorageSerializer, GrainStateSerializer>();
        services.AddValidatedOptions<LimiterOptions, LimiterOptionsValidator>(configuration, LimiterOptions.SectionName);
        services.AddValidatedOptions<CircuitBreakerOptions, CircuitBreakerOptionsValidator>(configuration, CircuitBreakerOptions.SectionName);
        services.AddValidatedOptions<ItemProcessingOptions, ItemProcessingOptionsValidator>(configuration, ItemProcessingOptions.SectionName);
        services.AddValidatedOptions<BatchOptions, BatchOptionsValidator>(configuration, BatchOptions.SectionName);
        services.AddValidatedOptions<OpenAiChatOptions, OpenAiChatOptionsValidator>(configuration, OpenAiChatOptions.SectionName);
        services.AddValidatedOptions<OpenAiEmbeddingsOptions, OpenAiEmbeddingsOptionsValidator>(configuration, OpenAiEmbeddingsOptions.SectionName);
        services.AddValidatedOptions<HttpProcessorOptions, HttpProcessorOptionsValidator>(configuration, HttpProcessorOptions.SectionName);
        services.AddValidatedOptions<ReplicateOptions, ReplicateOptionsValidator>(configuration, ReplicateOptions.SectionName);
        services.AddValidatedOptions<ResultCacheOptions, ResultCacheOptionsValidator>(configuration, ResultCacheOptions.SectionName);

        // Attempt timeouts come from the item pipeline (Polly), so the clients themselves never time out.
        services.AddHttpClient(OpenAiClients.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHttpClient(HttpProcessor.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHttpClient(ReplicateProcessor.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton<OpenAiClients>();
        services.TryAddSingleton<SharedResultCache>();
        services.TryAddSingleton<ItemResultCache>();
        services.AddItemProcessor<EchoProcessor>();
        services.AddItemProcessor<DelayProcessor>();
        services.AddItemProcessor<OpenAiChatProcessor>();
        services.AddItemProcessor<OpenAiEmbeddingsProcessor>();
        services.AddItemProcessor<HttpProcessor>();
        services.AddItemProcessor<ReplicateProcessor>();
        services.TryAddSingleton<ProcessorRegistry>();
        services.TryAddSingleton<ItemPipelines>();
        services.TryAddSingleton<ItemRuns>();
        services.TryAddSingleton<GrainReferences>();
        services.TryAddSingleton<LocalBreakerViews>();
        services.TryAddSingleton<OutcomeReports>();
        services.TryAddSingleton<LeaseReleases>();
        services.AddOptions<DrainOptions>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloDrain>();
        return services;
    }

    /// <summary>
    /// Declares a dead silo dead within about 3 s instead of Orleans' 12–14 s (probe every second, two missed probes,
    /// one vote), so the grains of a crashed silo come back quickly. For clusters on a reliable network without long
    /// GC pauses.
    /// </summary>
    public static ISiloBuilder UseFastFailureDetection(this ISiloBuilder silo) =>
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        });

    /// <summary>Registers a custom processor; batches pick it by its <see cref="IItemProcessor.Name"/>.</summary>
    public static IServiceCollection AddItemProcessor<T>(this IServiceCollection services)
        where T : class, IItemProcessor
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IItemProcessor, T>());
        return services;
    }

    private static void AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
    }
}
