using Floodgate.Cli.Input;
using Floodgate.Validation;

namespace Floodgate.Cli.Tests;

public sealed class ProcessorOptionParserTests
{
    [Fact]
    public void Parse_KeyValuePairs_SplitAtTheFirstEquals()
    {
        var options = ProcessorOptionParser.Parse(["model=gpt-4o-mini", "system=a=b", "empty="]);

        Assert.Equal("gpt-4o-mini", options["model"]);
        Assert.Equal("a=b", options["system"]);
        Assert.Equal("", options["empty"]);
    }

    [Theory]
    [InlineData("novalue")]
    [InlineData("=value")]
    [InlineData(" =value")]
    public void Parse_WithoutKey_IsAnError(string argument)
    {
        var error = Assert.Throws<FloodgateValidationException>(() => ProcessorOptionParser.Parse([argument]));

        Assert.Contains("is not key=value", error.Message);
    }

    [Fact]
    public void Parse_RepeatedKey_IsAnError()
    {
        var error = Assert.Throws<FloodgateValidationException>(() => ProcessorOptionParser.Parse(["a=1", "a=2"]));

        Assert.Contains("'a' is given more than once", error.Message);
    }
}
