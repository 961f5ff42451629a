using System.Net;
using System.Text;
using System.Text.Json;
using Floodgate.Grains.WarmUp;
using Floodgate.Silo.Api;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Floodgate.Silo.Hosting.WarmUp;

/// <summary>
/// The HTTP half of the warm-up: after each round, what a client of the API sends during a batch — its submission,
/// progress polls, the ordered results and the list — goes to this silo's own HTTP endpoint over loopback, so that the
/// first real request does not pay for compiling that path (ASP.NET Core, JSON, the SDK) either. The submission is invalid
/// on purpose (local limit 0): it is read and checked in full, then refused, and bad input changes nothing.
/// Best effort: when the endpoint is not reachable that way (HTTPS only, a silo stopping) or answers unexpectedly, it
/// stops and the warm-up goes on through the grains alone.
/// </summary>
internal sealed partial class WarmUpHttp(IServer server, IOptions<ApiOptions> api, WarmUpPass pass, ILogger<WarmUpHttp> logger) : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private HttpClient? _http;
    private bool _off;

    /// <summary>Reads the round back over HTTP and sends a refused submission of the same size (<see cref="SiloWarmUp.RunAsync"/>'s after-round step).</summary>
    public async Task AfterRoundAsync(WarmUpRound round, CancellationToken cancellationToken)
    {
        if (_off || (_http ??= Connect()) is not { } http)
        {
            return;
        }

        try
        {
            var batch = $"api/batches/{Uri.EscapeDataString(round.Name)}";
            await ExpectAsync(http.GetAsync(batch, cancellationToken), HttpStatusCode.OK);
            await ReadResultsAsync(http, $"{batch}/results?from={round.FirstPosition}", round.Items, cancellationToken);
            await ExpectAsync(http.GetAsync("api/batches?limit=50", cancellationToken), HttpStatusCode.OK);
            using var submission = new StringContent(RefusedSubmission(round), Encoding.UTF8, "application/json");
            await ExpectAsync(http.PostAsync("api/batches", submission, cancellationToken), HttpStatusCode.BadRequest);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _off = true;
            LogOff(ex.Message);
        }
    }

    public void Dispose() => _http?.Dispose();

    /// <summary>A client of this silo's first plain-HTTP address, reached over loopback; null while Kestrel has not bound yet.</summary>
    private HttpClient? Connect()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is not { Count: > 0 })
        {
            return null;
        }

        if (addresses.Select(Loopback).FirstOrDefault(uri => uri is not null) is not { } baseAddress)
        {
            _off = true;
            LogOff("no plain-HTTP address");
            return null;
        }

        // No draining of a results stream left early: its connection closes at once, so the silo ends that request at
        // once too, rather than finding the batch gone (erased after the last round) while it still waits for outcomes.
        var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = baseAddress, Timeout = CallTimeout };
        var options = api.Value;

        // The silo's own key (when keys are configured), sent only to itself.
        if (options.ClientKeys.Concat(options.AdminKeys).FirstOrDefault() is { } key)
        {
            http.DefaultRequestHeaders.Add(ApiDefaults.ApiKeyHeader, key);
        }

        // The API refuses the warm-up's reserved batch id to everyone but the holder of this process's pass.
        http.DefaultRequestHeaders.Add(WarmUpPass.Header, pass.Value);

        return http;
    }

    /// <summary><c>http://0.0.0.0:5080</c>, <c>http://[::]:5080</c>, <c>http://+:5080</c> → <c>http://127.0.0.1:5080/</c>; HTTPS → null.</summary>
    private static Uri? Loopback(string address)
    {
        var binding = BindingAddress.Parse(address);
        if (!string.Equals(binding.Scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase) || binding.IsUnixPipe || binding.IsNamedPipe)
        {
            return null;
        }

        var host = IPAddress.TryParse(binding.Host.Trim('[', ']'), out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)
            ? binding.Host
            : "127.0.0.1";
        return new Uri($"http://{host}:{binding.Port}/");
    }

    /// <summary>Reads the first <paramref name="count"/> outcomes of the NDJSON stream, then leaves (the batch is still open, so the stream would wait for more).</summary>
    private static async Task ReadResultsAsync(HttpClient http, string path, int count, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Expect(response, HttpStatusCode.OK);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        for (var read = 0; read < count && await lines.ReadLineAsync(cancellationToken) is { } line; read++)
        {
            using var _ = JsonDocument.Parse(line);
        }
    }

    /// <summary>A submission as large as the round, with the warm-up's items and a local limit of 0: refused with 400.</summary>
    private static string RefusedSubmission(WarmUpRound round)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("items");
            for (var position = round.FirstPosition; position < round.FirstPosition + round.Items; position++)
            {
                json.WriteStartObject();
                json.WriteString("text", "warm-up item");
                json.WriteNumber("position", position);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("processor", "echo");
            json.WriteString("limiter", round.Name);
            json.WriteNumber("localLimit", 0);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static async Task ExpectAsync(Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        using var response = await call;
        Expect(response, expected);
        await response.Content.ReadAsByteArrayAsync();
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode}, not {(int)expected}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up: the HTTP API is not warmed ({Reason}); the grains are")]
    private partial void LogOff(string reason);
}
