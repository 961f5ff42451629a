using System.Collections.Concurrent;

namespace Floodgate.Client.References;

/// <summary>
/// Grain references made without Orleans' per-call overhead, for the SDK's calls and the silo's item path.
/// <c>IGrainFactory.GetGrain&lt;T&gt;(key)</c> finds the interface's grain type by reading its attributes through
/// reflection on every call and then builds a new proxy: at thousands of items per second that was a tenth of a silo's
/// CPU, and a seventh of an external client's in a permit round trip. Here the grain and interface types are resolved
/// once per interface, and references to long-lived grains (a batch, breaker, limiter or catalog) are kept and shared:
/// a reference is immutable and may be used from any thread or activation.
/// </summary>
internal sealed class GrainReferences(IGrainFactory grains)
{
    /// <summary>Kept references; past this many the cache starts over (names come from batch definitions: unbounded).</summary>
    public const int MaxShared = 4_096;

    private readonly ConcurrentDictionary<Type, (GrainType Grain, GrainInterfaceType Interface)> _types = new();
    private readonly ConcurrentDictionary<(Type Interface, string Key), IAddressable> _shared = new();

    /// <summary>A new reference to the grain of <typeparamref name="T"/> with <paramref name="key"/>, as GetGrain would return.</summary>
    public T Get<T>(string key)
        where T : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var (grainType, interfaceType) = _types.GetOrAdd(typeof(T), static (_, factory) => Resolve<T>(factory), grains);
        return (T)grains.GetGrain(GrainId.Create(grainType, key), interfaceType);
    }

    /// <summary>The reference to a long-lived grain (a batch, breaker or limiter), made once and then shared.</summary>
    public T Shared<T>(string key)
        where T : IGrainWithStringKey
    {
        if (_shared.TryGetValue((typeof(T), key), out var known))
        {
            return (T)known;
        }

        if (_shared.Count >= MaxShared)
        {
            _shared.Clear();
        }

        var made = Get<T>(key);
        _shared.TryAdd((typeof(T), key), made);
        return made;
    }

    /// <summary>Resolves the types the way GetGrain does, once: from a reference it makes.</summary>
    private static (GrainType, GrainInterfaceType) Resolve<T>(IGrainFactory factory)
        where T : IGrainWithStringKey
    {
        var sample = (GrainReference)(object)factory.GetGrain<T>("-");
        return (sample.GrainId.Type, sample.InterfaceType);
    }
}
