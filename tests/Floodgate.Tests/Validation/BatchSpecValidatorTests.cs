using Floodgate.Batches;

namespace Floodgate.Tests.Validation;

public sealed class BatchSpecValidatorTests
{
    private static BatchSpec Valid() => new() { Items = ["\"a\""], Processor = "echo", Limiter = "acct:1", LocalLimit = 3 };

    [Fact]
    public void Validate_ValidSpec_ReturnsNoErrors() => Assert.Empty(BatchSpecValidator.Validate(Valid()));

    [Theory]
    [InlineData(0, "Local limit")]
    [InlineData(-1, "Local limit")]
    [InlineData(10_001, "Local limit")]
    public void Validate_LocalLimitOutOfRange_NamesLocalLimit(int localLimit, string expected) =>
        Assert.Contains(BatchSpecValidator.Validate(Valid() with { LocalLimit = localLimit }), e => e.Contains(expected));

    [Fact]
    public void Validate_NoItems_SaysSo() =>
        Assert.Contains(BatchSpecValidator.Validate(Valid() with { Items = [] }), e => e.Contains("at least one item"));

    [Fact]
    public void Validate_ItemNotJson_NamesPosition() =>
        Assert.Contains(BatchSpecValidator.Validate(Valid() with { Items = ["\"ok\"", "{broken"] }), e => e.Contains("Item 1"));

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("has space")]
    public void Validate_BadLimiterName_NamesLimiter(string limiter) =>
        Assert.Contains(BatchSpecValidator.Validate(Valid() with { Limiter = limiter }), e => e.Contains("Limiter name"));

    [Fact]
    public void Validate_OversizedLimiterName_NamesLength() =>
        Assert.Contains(BatchSpecValidator.Validate(Valid() with { Limiter = new string('x', 201) }), e => e.Contains("at most 200"));

    [Fact]
    public void Validate_GlobalLimitZero_NamesGlobalLimit() =>
        Assert.Contains(BatchSpecValidator.Validate(Valid() with { GlobalLimit = 0 }), e => e.Contains("Global limit"));
}
