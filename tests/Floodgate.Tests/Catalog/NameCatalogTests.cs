using Floodgate.Grains.Catalog;

namespace Floodgate.Tests.Catalog;

public sealed class NameCatalogTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static NameCatalog CreateSut(int capacity = 3) => new(capacity);

    [Fact]
    public void Register_NewName_ChangesAndListsInOrdinalOrder()
    {
        var catalog = CreateSut();

        Assert.True(catalog.Register("openai:b", Start));
        Assert.True(catalog.Register("openai:a", Start.AddSeconds(1)));

        Assert.Equal(["openai:a", "openai:b"], catalog.Names);
    }

    [Fact]
    public void Register_KnownName_DoesNotChangeTheSet()
    {
        var catalog = CreateSut();
        catalog.Register("a", Start);

        Assert.False(catalog.Register("a", Start.AddMinutes(1)));
        Assert.Equal(1, catalog.Count);
    }

    [Fact]
    public void Register_WhenFull_EvictsTheNameRegisteredLongestAgo()
    {
        var catalog = CreateSut(capacity: 3);
        catalog.Register("a", Start);
        catalog.Register("b", Start.AddSeconds(1));
        catalog.Register("c", Start.AddSeconds(2));
        catalog.Register("a", Start.AddSeconds(3)); // a is seen again: b is now the oldest

        Assert.True(catalog.Register("d", Start.AddSeconds(4)));

        Assert.Equal(["a", "c", "d"], catalog.Names);
    }

    [Fact]
    public void Restore_MoreThanCapacity_KeepsTheNewest()
    {
        var catalog = CreateSut(capacity: 2);

        catalog.Restore([new("old", Start), new("newer", Start.AddSeconds(1)), new("newest", Start.AddSeconds(2))]);

        Assert.Equal(["newer", "newest"], catalog.Names);
    }

    [Fact]
    public void Entries_RoundTripThroughRestore()
    {
        var catalog = CreateSut();
        catalog.Register("x", Start);
        catalog.Register("y", Start.AddSeconds(5));
        var restored = CreateSut();

        restored.Restore(catalog.Entries);

        Assert.Equal(catalog.Names, restored.Names);
        Assert.False(restored.Register("y", Start.AddSeconds(6)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_CapacityBelowOne_Throws(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NameCatalog(capacity));

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void Register_BlankName_ThrowsAndChangesNothing(string name)
    {
        var catalog = CreateSut();

        Assert.ThrowsAny<ArgumentException>(() => catalog.Register(name, Start));
        Assert.Equal(0, catalog.Count);
    }
}
