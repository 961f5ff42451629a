using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Validation;

namespace Floodgate.Client.Http;

/// <summary>
/// The body of a streamed submission (<c>application/x-ndjson</c>): the settings on the first line, then one item per
/// line, each checked as it is read and written as it comes, so the upload holds one item at a time. An item that is
/// not valid, or a source that fails, stops the body (the silo then discards the batch); <see cref="Failure"/> keeps
/// what stopped it, which HttpClient would otherwise report as a broken request.
/// </summary>
internal sealed class NdjsonSubmissionContent : HttpContent
{
    public const string MediaType = "application/x-ndjson";

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly SubmitBatchRequest _settings;
    private readonly IAsyncEnumerable<string> _items;
    private readonly CancellationToken _cancellationToken;

    public NdjsonSubmissionContent(SubmitBatchRequest settings, IAsyncEnumerable<string> items, CancellationToken cancellationToken)
    {
        _settings = settings;
        _items = items;
        _cancellationToken = cancellationToken;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(MediaType) { CharSet = Encoding.UTF8.WebName };
    }

    /// <summary>What stopped the body before its end (an invalid item, the source's own failure), if anything did.</summary>
    public Exception? Failure { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, _cancellationToken);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        try
        {
            await JsonSerializer.SerializeAsync(stream, _settings, FloodgateJson.Options, cancellationToken);
            await stream.WriteAsync(NewLine, cancellationToken);
            var position = 0L;
            await foreach (var item in _items.WithCancellation(cancellationToken))
            {
                if (BatchSpecValidator.CheckItem(item, position) is { } problem)
                {
                    throw new FloodgateValidationException(problem);
                }

                await stream.WriteAsync(Encoding.UTF8.GetBytes(OneLine(item)), cancellationToken);
                await stream.WriteAsync(NewLine, cancellationToken);
                position++;
            }
        }
        catch (Exception ex)
        {
            Failure = ex;
            throw;
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    /// <summary>The item as one line: a value spread over several lines (whitespace between tokens) is written compact.</summary>
    private static string OneLine(string item)
    {
        if (item.AsSpan().IndexOfAny('\n', '\r') < 0)
        {
            return item;
        }

        using var document = JsonDocument.Parse(item);
        return JsonSerializer.Serialize(document.RootElement);
    }
}
