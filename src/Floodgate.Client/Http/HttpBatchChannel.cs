using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Floodgate.Batches;
using Floodgate.Client.Batches;
using Floodgate.Client.Formatting;
using Floodgate.Validation;

namespace Floodgate.Client.Http;

/// <summary>A batch reached through <c>/api/batches/{id}</c>: long polls for progress, results as the NDJSON stream.</summary>
internal sealed class HttpBatchChannel(FloodgateHttpClient client, string batchId) : IBatchChannel
{
    private readonly string _path = $"api/batches/{batchId}";

    public Task<BatchProgress> GetProgressAsync(CancellationToken cancellationToken) =>
        client.SendAsync<BatchProgress>(HttpMethod.Get, _path, body: null, NotFound, cancellationToken);

    public Task<BatchProgress> WaitForProgressAsync(long afterVersion, TimeSpan maxWait, CancellationToken cancellationToken) =>
        client.SendAsync<BatchProgress>(HttpMethod.Get, _path + FloodgateHttpClient.WaitQuery(afterVersion, maxWait), body: null, NotFound, cancellationToken);

    public async IAsyncEnumerable<ItemOutcome> ReadResultsAsync(int fromPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Headers first: the body streams for as long as the batch runs.
        var query = fromPosition == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"?from={fromPosition}");
        using var response = await client.SendRawAsync(HttpMethod.Get, _path + "/results" + query, body: null, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await FloodgateHttpClient.EnsureSuccessAsync(response, NotFound, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length > 0)
            {
                yield return OutcomeJson.Read(line);
            }
        }
    }

    public Task<BatchProgress> CancelAsync(CancellationToken cancellationToken) =>
        client.SendAsync<BatchProgress>(HttpMethod.Delete, _path, body: null, NotFound, cancellationToken);

    public Task<BatchProgress> RetryFailedAsync(CancellationToken cancellationToken) =>
        client.SendAsync<BatchProgress>(HttpMethod.Post, _path + "/retry", body: null, NotFound, cancellationToken);

    private Exception NotFound() => new FloodgateNotFoundException("batch", batchId);
}
