using Floodgate.Silo.Api;

namespace Floodgate.Silo.Hosting;

/// <summary>
/// While the silo stops (SIGTERM, a deploy), new work is refused with 503 and <c>Retry-After</c>, so clients and load
/// balancers send it to another silo; everything about work already under way (renew, release, status, results,
/// cancel) is still served until the silo is gone.
/// </summary>
internal sealed class StoppingGate(RequestDelegate next, IHostApplicationLifetime lifetime)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested && IsNewWork(context.Request))
        {
            await ApiProblems.Stopping(context.Response).ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    /// <summary>
    /// <c>POST /api/batches</c> (a submit), <c>POST /api/limiters/{name}/leases</c> (an acquire) and gateway requests
    /// (<c>POST /v1/…</c>, <c>POST /upstreams/{name}/v1/…</c>: each takes a permit). OpenAI clients retry a 503 by themselves.
    /// </summary>
    internal static bool IsNewWork(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return false;
        }

        var segments = (request.Path.Value ?? string.Empty).Trim('/').Split('/');
        return segments is ["api", "batches"] or ["api", "limiters", _, "leases"] or ["v1", ..] or ["upstreams", _, "v1", ..];
    }
}
