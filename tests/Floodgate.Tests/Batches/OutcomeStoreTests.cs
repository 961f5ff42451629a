using Floodgate.Batches;
using Floodgate.Grains.Batches.Chunks;
using Floodgate.Tests.Infrastructure;
using Orleans.Storage;

namespace Floodgate.Tests.Batches;

/// <summary>The outcome side of chunked batch storage, against storage that counts every write.</summary>
public sealed class OutcomeStoreTests
{
    private const int ChunkSize = 100;
    private static readonly Orleans.Serialization.Serializer Serializer = CountingGrainStorage.NewSerializer();
    private readonly CountingGrainStorage _storage = CountingGrainStorage.InMemory(Serializer);
    private readonly GrainId _batch = GrainId.Create("batch", "b-outcomes");

    private OutcomeStore CreateSut(int cachedChunks = 4) => new(new ChunkStorage(_storage, _batch), ChunkSize, cachedChunks);

    private static ItemOutcome Success(int position) => ItemOutcome.Succeeded(position, $"{{\"p\":{position}}}", 1);

    /// <summary>One round of writes, as the batch makes it: every chunk with something to write, once.</summary>
    private static async Task<List<int>> WriteRoundAsync(OutcomeStore store)
    {
        var durable = new List<int>();
        foreach (var chunk in store.ChunksToWrite())
        {
            durable.AddRange(await store.WriteAsync(chunk));
        }

        return durable;
    }

    [Fact]
    public async Task WriteRound_OutcomesInTwoChunks_WritesExactlyThoseTwoChunks()
    {
        var store = CreateSut();
        store.Add(Success(250));
        store.Add(Success(251));
        store.Add(Success(530));

        var durable = await WriteRoundAsync(store);

        Assert.Equal([250, 251, 530], durable.Order());
        Assert.Equal(["batch-outcomes-2", "batch-outcomes-5"], _storage.Writes.Select(w => w.StateName).Order());
    }

    [Fact]
    public async Task WriteRound_AfterOneMoreOutcome_WritesOnlyItsChunk()
    {
        var store = CreateSut();
        store.Add(Success(250));
        store.Add(Success(530));
        await WriteRoundAsync(store);
        _storage.Reset();

        store.Add(Success(531));
        await WriteRoundAsync(store);
        await WriteRoundAsync(store);

        Assert.Equal(["batch-outcomes-5"], _storage.Writes.Select(w => w.StateName));
    }

    [Fact]
    public async Task Write_OfAChunk_CostsTheSameWhateverHowManyChunksTheBatchHas()
    {
        var store = CreateSut();
        for (var position = 0; position < 50 * ChunkSize; position++)
        {
            store.Add(Success(position));
        }

        await WriteRoundAsync(store);
        _storage.Reset();
        store.Add(Success((50 * ChunkSize) + 7));
        await WriteRoundAsync(store);

        var write = Assert.Single(_storage.Writes);
        var fullChunk = Serializer.SerializeToArray(new OutcomeChunk { Outcomes = Enumerable.Range(0, ChunkSize).Select(Success).ToArray<ItemOutcome?>() }).Length;
        Assert.True(write.Bytes <= fullChunk, $"one outcome's write took {write.Bytes} bytes, a full chunk {fullChunk}");
    }

    [Fact]
    public async Task Write_ChunkLetGoByTrim_IsReadBackSoEarlierOutcomesStay()
    {
        var store = CreateSut(cachedChunks: 1);
        store.Add(Success(10));
        store.Add(Success(110));
        await WriteRoundAsync(store);
        store.Trim();
        Assert.Equal(1, store.OpenChunks);

        store.Add(Success(11));
        await WriteRoundAsync(store);

        var stored = await new ChunkStorage(_storage, _batch).ReadOutcomesAsync(0, ChunkSize);
        Assert.Equal([10, 11], stored.Outcomes.OfType<ItemOutcome>().Select(o => o.Position));
    }

    [Fact]
    public async Task Write_Failing_KeepsTheOutcomesForTheNextWrite()
    {
        var failing = new FailingOnceStorage(_storage);
        var store = new OutcomeStore(new ChunkStorage(failing, _batch), ChunkSize, 4);
        store.Add(Success(3));

        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(0));
        Assert.True(store.HasUnwritten);
        var durable = await WriteRoundAsync(store);

        Assert.Equal([3], durable);
        Assert.False(store.HasUnwritten);
    }

    [Fact]
    public async Task Write_ChunkWrittenMeanwhileByAnotherActivation_ThrowsInconsistentState()
    {
        var store = CreateSut();
        var other = CreateSut();
        store.Add(Success(1));
        await WriteRoundAsync(store);
        other.Add(Success(2));
        await WriteRoundAsync(other);

        store.Add(Success(3));

        await Assert.ThrowsAsync<InconsistentStateException>(() => store.WriteAsync(0));
    }

    [Fact]
    public async Task Read_FromAnyPosition_ReadsOnlyTheChunksItNeedsAndKeepsFewInMemory()
    {
        var writer = CreateSut();
        for (var position = 0; position < 20 * ChunkSize; position++)
        {
            writer.Add(Success(position));
        }

        await WriteRoundAsync(writer);
        var reader = CreateSut(cachedChunks: 2);

        var page = await reader.ReadAsync(1234, 100, durablePrefix: 20 * ChunkSize, cancelledFrom: null);
        var last = await reader.ReadAsync(1999, 1, durablePrefix: 20 * ChunkSize, cancelledFrom: null);
        var first = await reader.ReadAsync(0, 5, durablePrefix: 20 * ChunkSize, cancelledFrom: null);

        Assert.Equal(Enumerable.Range(1234, 100), page.Select(o => o.Position));
        Assert.Equal([1999], last.Select(o => o.Position));
        Assert.Equal(Enumerable.Range(0, 5), first.Select(o => o.Position));
        Assert.Equal(2, reader.CachedChunks);
    }

    [Fact]
    public async Task Read_BeyondTheDurablePrefix_IsRefused()
    {
        var store = CreateSut();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ReadAsync(5, 10, durablePrefix: 10, cancelledFrom: null));
    }

    [Fact]
    public async Task Read_PositionsFromTheCancelledPart_AreCancelledWithoutAStoredOutcome()
    {
        var store = CreateSut();
        store.Add(Success(0));
        await WriteRoundAsync(store);

        var page = await store.ReadAsync(0, 250, durablePrefix: 250, cancelledFrom: 1);

        Assert.Equal(ItemStatus.Succeeded, page[0].Status);
        Assert.All(page.Skip(1), o => Assert.Equal(ItemStatus.Cancelled, o.Status));
        Assert.Equal(Enumerable.Range(0, 250), page.Select(o => o.Position));
    }

    [Fact]
    public async Task Restore_EraseFailed_RemovesFailedOutcomesFromStorage()
    {
        var store = CreateSut();
        store.Add(Success(0));
        store.Add(ItemOutcome.Failed(1, "boom", 3));
        store.Add(Success(2));
        await WriteRoundAsync(store);

        var restored = await CreateSut().RestoreAsync(0, eraseFailed: true);
        var stored = await new ChunkStorage(_storage, _batch).ReadOutcomesAsync(0, ChunkSize);

        Assert.Null(restored[1]);
        Assert.Equal([0, 2], stored.Outcomes.OfType<ItemOutcome>().Select(o => o.Position));
    }

    /// <summary>Storage whose first write fails (an outage), then works.</summary>
    private sealed class FailingOnceStorage(IGrainStorage inner) : IGrainStorage
    {
        private bool _failed;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (!_failed)
            {
                _failed = true;
                throw new IOException("Injected fault: storage unavailable.");
            }

            return inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
