using Floodgate.Grains.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Processors.Tests;

/// <summary>The cache shard's rules with fake time: single flight, TTL, LRU bound, leader replacement.</summary>
public sealed class ResultCacheTableTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Lookup_SecondCallerWhileLeaderComputes_WaitsAndThenHits()
    {
        var table = CreateSut();
        Assert.Equal(CacheLookupKind.Lead, table.Lookup("k", "a").Kind);
        var waiting = table.Lookup("k", "b");
        Assert.Equal(CacheLookupKind.Pending, waiting.Kind);

        table.Complete("k", "a", "\"r\"");

        Assert.True(waiting.Changed!.IsCompletedSuccessfully);
        Assert.True(await waiting.Changed);
        Assert.Equal("\"r\"", table.Lookup("k", "b").ResultJson);
    }

    [Fact]
    public void Lookup_AfterTtl_Misses()
    {
        var table = CreateSut();
        table.Lookup("k", "a");
        table.Complete("k", "a", "1");
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(CacheLookupKind.Lead, table.Lookup("k", "b").Kind);
    }

    [Fact]
    public async Task Abandon_ByLeader_WakesWaitersAndNextCallerLeads()
    {
        var table = CreateSut();
        table.Lookup("k", "a");
        var waiting = table.Lookup("k", "b");

        table.Abandon("k", "a");

        Assert.True(waiting.Changed!.IsCompleted);
        Assert.False(await waiting.Changed);
        Assert.Equal(CacheLookupKind.Lead, table.Lookup("k", "b").Kind);
    }

    [Fact]
    public void Lookup_LeaderSilentPastLeadTimeout_IsReplaced()
    {
        var table = CreateSut();
        table.Lookup("k", "a");
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(CacheLookupKind.Lead, table.Lookup("k", "b").Kind);
    }

    [Fact]
    public void Complete_BeyondMaxEntries_EvictsLeastRecentlyUsed()
    {
        var table = CreateSut();
        foreach (var key in new[] { "a", "b" })
        {
            table.Lookup(key, "x");
            table.Complete(key, "x", key);
        }

        table.Lookup("a", "y"); // a is now the most recently used
        table.Lookup("c", "x");
        table.Complete("c", "x", "c");

        Assert.Equal(2, table.Count);
        Assert.Equal(CacheLookupKind.Hit, table.Lookup("a", "z").Kind);
        Assert.Equal(CacheLookupKind.Lead, table.Lookup("b", "z").Kind);
    }

    [Fact]
    public void Complete_ResultLargerThanBound_IsNotKeptButReleasesWaiters()
    {
        var table = CreateSut();
        table.Lookup("k", "a");
        var waiting = table.Lookup("k", "b");

        table.Complete("k", "a", new string('x', 11));

        Assert.True(waiting.Changed!.IsCompleted);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Key_SameItemDifferentFormattingAndCacheOption_SameKey()
    {
        var a = ResultCaching.Key("openai-chat", new Dictionary<string, string> { ["template"] = "{word}", ["cache"] = "true" }, """{"b":1,"word":" apple "}""");
        var b = ResultCaching.Key("openai-chat", new Dictionary<string, string> { ["template"] = "{word}" }, """{ "word": "apple", "b": 1 }""");
        var other = ResultCaching.Key("openai-chat", new Dictionary<string, string> { ["template"] = "{word}!" }, """{"word":"apple","b":1}""");

        Assert.Equal(a, b);
        Assert.NotEqual(a, other);
    }

    private ResultCacheTable CreateSut() => new(
        new ResultCacheOptions { Ttl = TimeSpan.FromMinutes(5), MaxEntries = 2, Shards = 1, LeadTimeout = TimeSpan.FromMinutes(1), MaxResultLength = 10 },
        _time);
}
