using System.Text.Json;
using Floodgate.Cli.Input;
using Floodgate.Validation;

namespace Floodgate.Cli.Tests;

public sealed class ItemFileReaderTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static List<string> ReadAll(string path, ItemFileFormat format, string? csvColumn = null) =>
        ItemFileReader.Read(path, format, csvColumn).ToList();

    [Fact]
    public void Read_StandardInput_ReadsTheGivenReaderAsLines()
    {
        var items = ItemFileReader.Read(ItemFileReader.StandardInput, ItemFileFormat.Auto, stdin: new StringReader("apple\n\nbanana\n")).ToList();

        Assert.Equal(["\"apple\"", "\"banana\""], items);
    }

    [Fact]
    public void Read_StandardInputAsJsonl_BadLineFailsWhenTheReaderGetsThere()
    {
        using var items = ItemFileReader.Read(ItemFileReader.StandardInput, ItemFileFormat.Jsonl, stdin: new StringReader("1\n2\n{bad\n")).GetEnumerator();

        Assert.True(items.MoveNext());
        Assert.True(items.MoveNext());
        var error = Assert.Throws<FloodgateValidationException>(() => items.MoveNext());
        Assert.StartsWith("standard input line 3: not valid JSON", error.Message);
    }

    [Fact]
    public void Read_EmptyStandardInput_ErrorSaysNoItems()
    {
        var error = Assert.Throws<FloodgateValidationException>(() => ItemFileReader.Read(ItemFileReader.StandardInput, ItemFileFormat.Auto, stdin: new StringReader("\n")).ToList());

        Assert.Equal("no items in standard input.", error.Message);
    }

    [Fact]
    public void Validate_GoodFile_CountsItsItems()
    {
        var path = _files.Write("items.jsonl", "1\n\n2\n3\n");

        Assert.Equal(3, ItemFileReader.Validate(path, ItemFileFormat.Auto));
    }

    [Fact]
    public void Read_LinesFile_EachNonBlankLineBecomesAJsonString()
    {
        var path = _files.Write("words.txt", "apple\r\n\r\n  \nbanana split\n\"quoted\" é\n");

        var items = ReadAll(path, ItemFileFormat.Auto);

        Assert.Equal(["apple", "banana split", "\"quoted\" é"], items.Select(i => JsonSerializer.Deserialize<string>(i)));
    }

    [Fact]
    public void Read_JsonlFile_KeepsEachValueAndSkipsBlankLines()
    {
        var path = _files.Write("items.jsonl", "{\"prompt\":\"hi\"}\n\n42\r\n  \"word\"  \n[1,2]\n");

        var items = ReadAll(path, ItemFileFormat.Auto);

        Assert.Equal(["{\"prompt\":\"hi\"}", "42", "\"word\"", "[1,2]"], items);
    }

    [Fact]
    public void Read_JsonlWithMalformedLine_ErrorNamesFileAndLine()
    {
        var path = _files.Write("words.jsonl", "\"a\"\n\nhello\n\"b\"\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.StartsWith($"{path} line 3: not valid JSON (", error.Message);
        Assert.DoesNotContain("LineNumber", error.Message);
    }

    [Fact]
    public void Read_JsonlLineWithTwoValues_IsAnError()
    {
        var path = _files.Write("items.ndjson", "1 2\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.Contains("line 1: not valid JSON", error.Message);
    }

    [Fact]
    public void Read_CsvWithoutColumn_EachRowBecomesAnObjectOfHeaderToValue()
    {
        var path = _files.Write("rows.csv", "word,note\r\nplain,simple\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\r\n");

        var items = ReadAll(path, ItemFileFormat.Auto);

        Assert.Equal(3, items.Count);
        Assert.Equal(("plain", "simple"), Fields(items[0]));
        Assert.Equal(("a, b", "say \"hi\""), Fields(items[1]));
        Assert.Equal(("two\nlines", ""), Fields(items[2]));

        static (string?, string?) Fields(string json)
        {
            using var document = JsonDocument.Parse(json);
            return (document.RootElement.GetProperty("word").GetString(), document.RootElement.GetProperty("note").GetString());
        }
    }

    [Fact]
    public void Read_CsvWithColumn_ItemIsThatColumnAsAString()
    {
        var path = _files.Write("rows.csv", "id,word\n1,apple\n2,\"b,c\"\n");

        var items = ReadAll(path, ItemFileFormat.Auto, csvColumn: "word");

        Assert.Equal(["\"apple\"", "\"b,c\""], items);
    }

    [Fact]
    public void Read_CsvWithUnknownColumn_ErrorListsTheHeaders()
    {
        var path = _files.Write("rows.csv", "id,word\n1,apple\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Csv, csvColumn: "prompt"));

        Assert.Contains("no column 'prompt'", error.Message);
        Assert.Contains("columns: id, word", error.Message);
    }

    [Fact]
    public void Read_CsvRowWithWrongFieldCount_ErrorNamesItsLine()
    {
        // The quoted field spans lines 2-3, so the short row starts on line 4.
        var path = _files.Write("rows.csv", "a,b\n\"x\ny\",1\n3\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.Equal($"{path} line 4: 1 field, but the header has 2.", error.Message);
    }

    [Fact]
    public void Read_CsvWithUnclosedQuote_ErrorNamesTheLineWhereItOpened()
    {
        var path = _files.Write("rows.csv", "a\n\"open\nstill open\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.Contains("line 2: a quoted field is not closed", error.Message);
    }

    [Fact]
    public void Read_CsvWithTextAfterClosingQuote_IsAnError()
    {
        var path = _files.Write("rows.csv", "a\n\"x\"y\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.Contains("line 2: unexpected 'y' after a closing quote", error.Message);
    }

    [Fact]
    public void Read_CsvWithDuplicateHeader_IsAnErrorUnlessAColumnIsChosen()
    {
        var path = _files.Write("rows.csv", "a,a,b\n1,2,3\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.Contains("column 'a' appears twice", error.Message);
        Assert.Equal(["\"3\""], ReadAll(path, ItemFileFormat.Auto, csvColumn: "b"));
    }

    [Theory]
    [InlineData("empty.txt", "")]
    [InlineData("empty.jsonl", "\n  \n")]
    [InlineData("empty.csv", "")]
    [InlineData("header-only.csv", "word\n")]
    public void Read_FileWithoutItems_ErrorSaysNoItems(string name, string content)
    {
        var path = _files.Write(name, content);

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.StartsWith($"no items in {path}", error.Message);
    }

    [Fact]
    public void Read_MissingFile_ErrorNamesTheFile()
    {
        var path = _files.PathOf("absent.txt");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto));

        Assert.Equal($"{path}: file not found.", error.Message);
    }

    [Fact]
    public void Read_CsvColumnWithoutCsvInput_IsAnError()
    {
        var path = _files.Write("words.txt", "a\n");

        var error = Assert.Throws<FloodgateValidationException>(() => ReadAll(path, ItemFileFormat.Auto, csvColumn: "word"));

        Assert.Contains("--csv-column applies only to CSV input", error.Message);
    }

    [Fact]
    public void Read_ExplicitFormat_OverridesTheExtension()
    {
        var path = _files.Write("items.txt", "{\"a\":1}\n");

        Assert.Equal(["{\"a\":1}"], ReadAll(path, ItemFileFormat.Jsonl));
        Assert.Equal(["\"{\\\"a\\\":1}\""], ReadAll(path, ItemFileFormat.Lines));
    }

    [Theory]
    [InlineData("a.jsonl", "jsonl")]
    [InlineData("a.NDJSON", "jsonl")]
    [InlineData("a.csv", "csv")]
    [InlineData("a.txt", "lines")]
    [InlineData("a", "lines")]
    public void Resolve_AutoFormat_GoesByExtension(string path, string expected) =>
        Assert.Equal(ItemFileFormats.Parse(expected), ItemFileFormats.Resolve(ItemFileFormat.Auto, path));
}
