// A client process that holds leases of a global limiter through the silo HTTP API and keeps renewing them until it is
// killed — the crashed client of the fault tests (its permits must come back within the lease TTL).
//
//   dotnet Floodgate.LeaseHolder.dll <limiter> <holder> <leases> <ttlMs> <apiUrl> [<apiUrl>...]
//
// Prints "held <leaseId>" for each lease it got, then "renewed <n>" after each round of renewals. Uses every URL given
// in turn, so it outlives the silo it first talked to.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

if (args.Length < 5)
{
    Console.Error.WriteLine("usage: Floodgate.LeaseHolder <limiter> <holder> <leases> <ttlMs> <apiUrl> [<apiUrl>...]");
    return 2;
}

var (limiter, holder, count, ttlMs) = (args[0], args[1], int.Parse(args[2]), int.Parse(args[3]));
var apis = args[4..].Select(url => new Uri(url.TrimEnd('/') + "/")).ToArray();
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
var next = 0;

var leases = new List<string>();
for (var attempt = 0; leases.Count < count && attempt < 600; attempt++)
{
    var response = await SendAsync(HttpMethod.Post, $"api/limiters/{limiter}/leases", new { holder, weight = 1, waitMs = 2000, ttlMs });
    if (response is { StatusCode: HttpStatusCode.Created })
    {
        var lease = await response.Content.ReadFromJsonAsync<JsonElement>();
        var leaseId = lease.GetProperty("lease").GetProperty("leaseId").GetString()!;
        leases.Add(leaseId);
        Console.WriteLine($"held {leaseId}");
    }
    else
    {
        await Task.Delay(100);
    }
}

if (leases.Count < count)
{
    Console.Error.WriteLine($"got {leases.Count} of {count} leases; giving up");
    return 1;
}

// Renew at a third of the TTL, naming holder and weight so a limiter that lost its memory can re-adopt the lease.
for (var round = 1; ; round++)
{
    await Task.Delay(ttlMs / 3);
    foreach (var leaseId in leases)
    {
        var response = await SendAsync(HttpMethod.Put, $"api/limiters/{limiter}/leases/{Uri.EscapeDataString(leaseId)}", new { holder, weight = 1, ttlMs });
        Console.WriteLine($"renew {leaseId}: {(response is null ? "no answer" : ((int)response.StatusCode).ToString())}");
    }

    Console.WriteLine($"renewed {round}");
}

// One request to the current silo; on no answer, the next request goes to the next silo.
async Task<HttpResponseMessage?> SendAsync(HttpMethod method, string path, object body)
{
    var api = apis[next % apis.Length];
    try
    {
        var response = await http.SendAsync(new HttpRequestMessage(method, new Uri(api, path)) { Content = JsonContent.Create(body) });
        if ((int)response.StatusCode >= 500)
        {
            next++;
        }

        return response;
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
    {
        Console.WriteLine($"{api} did not answer: {ex.GetType().Name}");
        next++;
        return null;
    }
}
