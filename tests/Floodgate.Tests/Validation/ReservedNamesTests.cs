using Floodgate.Batches;
using Floodgate.Grains.WarmUp;
using Floodgate.Validation;

namespace Floodgate.Tests.Validation;

/// <summary>The prefix of the silo's warm-up names, reserved at every public entry point (<see cref="Names.CheckUnreserved"/>).</summary>
public sealed class ReservedNamesTests
{
    private const string Refusal = "names starting with 'floodgate-warm-up.' are reserved for the silo's start-up warm-up";

    private static BatchSpec Valid() => new() { Items = ["\"a\""], Processor = "echo", Limiter = "acct:1", LocalLimit = 3 };

    [Fact]
    public void ReservedPrefix_IsTheWarmUpsPrefix() => Assert.Equal(WarmUpNames.Prefix, Names.ReservedPrefix);

    [Fact]
    public void CheckUnreserved_WarmUpName_NamesWhatAndWhy()
    {
        var problem = Names.CheckUnreserved("Limiter name", WarmUpNames.NewRun());

        Assert.NotNull(problem);
        Assert.StartsWith("Limiter name 'floodgate-warm-up.", problem);
        Assert.EndsWith(Refusal + ".", problem);
    }

    [Theory]
    [InlineData("floodgate-warm-up")]
    [InlineData("Floodgate-Warm-Up.x")]
    [InlineData("my-floodgate-warm-up.x")]
    [InlineData("floodgate-warm-upx")]
    public void CheckUnreserved_NameThatOnlyLooksLikeIt_IsAllowed(string name) =>
        Assert.Null(Names.CheckUnreserved("Limiter name", name));

    [Fact]
    public void CheckUnreserved_BadName_ReportsTheFormatProblemOnly() =>
        Assert.Equal(Names.Check("Batch id", "floodgate-warm-up./x"), Names.CheckUnreserved("Batch id", "floodgate-warm-up./x"));

    [Fact]
    public void RequireUnreserved_WarmUpName_ThrowsValidation() =>
        Assert.Contains(Refusal, Assert.Throws<FloodgateValidationException>(() => Names.RequireUnreserved("Breaker name", "floodgate-warm-up.b")).Message);

    [Fact]
    public void Check_WarmUpName_IsAValidNameForTheGrains() => Assert.Null(Names.Check("Limiter name", WarmUpNames.NewRun()));

    [Theory]
    [InlineData("limiter", "Limiter name")]
    [InlineData("breaker", "Breaker name")]
    [InlineData("additional", "Additional limiter name")]
    [InlineData("idempotency", "Idempotency key")]
    [InlineData("batch", "Batch id")]
    public void ValidateSubmission_ReservedName_RefusedNamingTheField(string field, string what)
    {
        var reserved = WarmUpNames.NewRun();
        var spec = field switch
        {
            "limiter" => Valid() with { Limiter = reserved },
            "breaker" => Valid() with { Breaker = reserved },
            "additional" => Valid() with { AdditionalLimiters = ["acct:2", reserved] },
            "idempotency" => Valid() with { IdempotencyKey = reserved },
            _ => Valid(),
        };
        var batchId = field == "batch" ? reserved : "b-1";

        var fromSpec = Assert.Single(BatchSpecValidator.Validate(spec, batchId));
        var fromDefinition = Assert.Single(BatchSpecValidator.Validate((BatchDefinition)spec, batchId));

        Assert.StartsWith($"{what} '{reserved}' is not allowed", fromSpec);
        Assert.Contains(Refusal, fromSpec);
        Assert.Equal(fromSpec, fromDefinition);
    }

    [Fact]
    public void ValidateSubmission_NoBatchId_StillRefusesReservedNamesInTheSpec() =>
        Assert.Contains(Refusal, Assert.Single(BatchSpecValidator.Validate(Valid() with { Limiter = "floodgate-warm-up.l" }, batchId: null)));

    [Fact]
    public void ValidateDefinition_WarmUpNames_AcceptedAsTheBatchGrainChecksThem()
    {
        var name = WarmUpNames.NewRun();

        Assert.Empty(BatchSpecValidator.Validate(new BatchDefinition { Processor = "echo", Limiter = name, Breaker = name, LocalLimit = 8 }));
    }
}
