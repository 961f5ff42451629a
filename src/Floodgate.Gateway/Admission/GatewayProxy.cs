using Floodgate.Client;
using Floodgate.Client.Leases;
using Floodgate.Gateway.Authentication;
using Floodgate.Gateway.Caching;
using Floodgate.Gateway.Forwarding;
using Floodgate.Gateway.Usage;
using Floodgate.Grains.Caching;
using Floodgate.Grains.Telemetry;
using Floodgate.Limiting;
using Floodgate.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Floodgate.Gateway.Admission;

/// <summary>
/// One gateway request from start to end: pick the upstream, read the body for the model and a token estimate, take a
/// permit of every limiter the request must pass (the tenant's caps, the account, the model) within
/// <see cref="GatewayOptions.MaxQueueTime"/> or answer 429, forward with YARP while the permits renew, then report the
/// upstream's usage and pushback to the limiters and release the permits — when the response ends, the stream ends, or
/// the client goes away. Deterministic requests of keys with the cache on go through the shared cache first.
/// </summary>
internal sealed partial class GatewayProxy(
    IFloodgateClient floodgate,
    UpstreamForwarder forwarder,
    SharedResultCache cache,
    IOptions<GatewayOptions> options,
    FloodgateMetrics metrics,
    TimeProvider time,
    ILogger<GatewayProxy> logger)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task HandleAsync(HttpContext context, OpenAiEndpoint endpoint)
    {
        var tenant = context.Features.Get<GatewayTenant>() ?? new GatewayTenant(GatewayConstants.OpenTenant, null, null);
        var named = context.GetRouteValue("upstream") as string ?? SingleHeader(context, GatewayConstants.UpstreamHeader);
        if (_options.Resolve(named) is not var (upstream, settings))
        {
            await OpenAiErrors.NotFoundAsync(context, named is null
                ? $"No default upstream is configured; name one with the '{GatewayConstants.UpstreamHeader}' header or the /upstreams/{{name}}/v1 route."
                : $"No upstream named '{Shorten(named)}' is configured.");
            return;
        }

        var transformer = new UpstreamTransformer(Destination(settings, context.Request.Path, endpoint), settings.ApiKey);
        if (endpoint == OpenAiEndpoint.Models)
        {
            // Listing models costs the account nothing: no permit.
            await forwarder.ForwardAsync(context, transformer, context.RequestAborted);
            return;
        }

        if (await ReadAsync(context, endpoint) is not { } request)
        {
            return;
        }

        if (tenant.Cache && request.Deterministic)
        {
            await HandleCachedAsync(context, endpoint, upstream, settings, tenant, transformer, request);
            return;
        }

        await AdmitAndForwardAsync(context, upstream, settings, tenant, transformer, request, capture: null);
    }

    /// <summary>
    /// A deterministic request of a key with the cache on: a cached answer is sent without a permit or an upstream call;
    /// otherwise this request leads (forwards, and stores a whole JSON 200) while identical ones anywhere in the cluster
    /// wait for its answer. A leader whose answer may not be kept lets the next waiter lead.
    /// </summary>
    private async Task HandleCachedAsync(
        HttpContext context, OpenAiEndpoint endpoint, string upstream, GatewayUpstreamOptions settings, GatewayTenant tenant, UpstreamTransformer transformer, OpenAiRequest request)
    {
        var key = GatewayResponseCache.Key(upstream, endpoint, request.Body);
        CacheTurn turn;
        try
        {
            turn = await cache.TakeTurnAsync(key, $"gateway/{tenant.Name}#{Guid.NewGuid():N}", context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // The client went away while an identical request was computing.
        }

        await using (turn)
        {
            if (turn.Kind == CacheTurnKind.Hit)
            {
                metrics.GatewayRequest(upstream, tenant.Name, "cached", null);
                await GatewayResponseCache.WriteHitAsync(context, turn.ResultJson!);
                return;
            }

            using var capture = new ResponseCapture(context.Response.Body, GatewayResponseCache.CaptureLimit(cache.MaxResultLength));
            var whole = await AdmitAndForwardAsync(context, upstream, settings, tenant, transformer, request, capture);
            if (GatewayResponseCache.Cacheable(transformer.Answered, whole, context.Response, capture, cache.MaxResultLength) is { } answer)
            {
                await turn.CompleteAsync(answer);
            }
        }
    }

    /// <summary>
    /// Takes the permits, forwards, reports and releases (the whole life of an uncached request). True when the upstream's
    /// answer was forwarded whole; <paramref name="capture"/>, when given, keeps a copy of it.
    /// </summary>
    private async Task<bool> AdmitAndForwardAsync(
        HttpContext context, string upstream, GatewayUpstreamOptions settings, GatewayTenant tenant, UpstreamTransformer transformer, OpenAiRequest request, ResponseCapture? capture)
    {
        var accountLimiter = settings.Limiter ?? GatewayConstants.DefaultLimiter(upstream);
        var modelLimiter = request.Model is { } model && settings.ModelLimiters.TryGetValue(model, out var perModel) ? perModel : null;
        var upstreamLimiters = modelLimiter is null ? [accountLimiter] : new[] { accountLimiter, modelLimiter };
        var admission = new LeaseSetRequest([.. upstreamLimiters, .. tenant.CapLimiter is { } cap ? [cap] : Array.Empty<string>()])
        {
            Holder = tenant.Name,
            WaitTimeout = _options.MaxQueueTime,
            Tokens = request.EstimatedTokens,
        };

        var queuedAt = time.GetTimestamp();
        LimiterLeaseSet leases;
        try
        {
            leases = await floodgate.AcquireAllAsync(admission, context.RequestAborted);
        }
        catch (LeaseUnavailableException ex)
        {
            metrics.GatewayRequest(upstream, tenant.Name, "rejected", null);
            _ = ReportQuietlyAsync([accountLimiter], new UsageReport(tenant.Name, null, UsageOutcome.Rejected));
            LogRejected(logger, upstream, tenant.Name, ex.Limiter);
            await OpenAiErrors.RateLimitedAsync(
                context,
                $"Rate limit reached: no permit of '{ex.Limiter}' within {_options.MaxQueueTime.TotalSeconds:0.#} s. Retry later.",
                ex.RetryAfter ?? TimeSpan.FromSeconds(1));
            return false;
        }
        catch (FloodgateValidationException ex)
        {
            // The estimate can never fit a token budget, say: retrying would not help.
            await OpenAiErrors.BadRequestAsync(context, ex.Message);
            return false;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return false; // The client went away while queued; its acquires were undone by request id.
        }
        catch (Exception ex) when (ClusterFaults.IsTransient(ex))
        {
            await OpenAiErrors.UnavailableAsync(context, $"The limiter could not be reached ({ClusterFaults.Describe(ex)}); retry.");
            return false;
        }

        metrics.GatewayQueued(upstream, time.GetElapsedTime(queuedAt));
        await using (leases)
        {
            var (outcome, tokens, whole) = await ForwardAsync(context, transformer, leases, capture);
            if (transformer.Answered is not { } answered)
            {
                // No answer (unreachable upstream, client gone before it answered): nothing to settle or learn from;
                // the estimate stays charged.
                metrics.GatewayRequest(upstream, tenant.Name, "failed", null);
                return false;
            }

            var signal = RateLimitHeaders.Read(answered, time.GetUtcNow());
            await Task.WhenAll(upstreamLimiters.Select(limiter => leases.LeaseOf(limiter) is { } lease
                ? ReportQuietlyAsync([limiter], new UsageReport(tenant.Name, lease.Lease.LeaseId, outcome, tokens, signal))
                : Task.CompletedTask));
            metrics.GatewayRequest(upstream, tenant.Name, outcome == UsageOutcome.UpstreamRateLimited ? "upstream_rate_limited" : "completed", tokens);
            return whole;
        }
    }

    /// <summary>Forwards while the permits are held; a lost permit stops the call (its slot may be someone else's now).</summary>
    private async Task<(UsageOutcome Outcome, int? Tokens, bool Whole)> ForwardAsync(
        HttpContext context, UpstreamTransformer transformer, LimiterLeaseSet leases, ResponseCapture? capture)
    {
        var original = context.Response.Body;
        var observer = new UsageObservingStream(capture ?? original, () => context.Response.ContentType);
        context.Response.Body = observer;
        ForwarderError error;
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, leases.Lost);
            error = await forwarder.ForwardAsync(context, transformer, stop.Token);
            if (error != ForwarderError.None)
            {
                LogForwardFailed(logger, error, leases.Lost.IsCancellationRequested);
            }
        }
        finally
        {
            context.Response.Body = original;
        }

        var status = (int?)transformer.Answered?.StatusCode;
        var outcome = status == StatusCodes.Status429TooManyRequests ? UsageOutcome.UpstreamRateLimited : UsageOutcome.Completed;
        return (outcome, observer.Usage?.TotalTokens, error == ForwarderError.None);
    }

    /// <summary>Reads and parses the body; answers 400/413 itself and returns null when it is unusable.</summary>
    private async Task<OpenAiRequest?> ReadAsync(HttpContext context, OpenAiEndpoint endpoint)
    {
        if (context.Request.ContentLength > GatewayConstants.MaxRequestBodyBytes)
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is too large.", "invalid_request_error");
            return null;
        }

        using var buffer = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return null;
        }

        if (buffer.Length > GatewayConstants.MaxRequestBodyBytes)
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is too large.", "invalid_request_error");
            return null;
        }

        var request = OpenAiRequest.Parse(endpoint, buffer.ToArray(), _options.DefaultMaxTokens, out var error);
        if (error is not null)
        {
            await OpenAiErrors.BadRequestAsync(context, error);
            return null;
        }

        // YARP forwards what it finds here: the body as read (or as amended for usage reporting).
        context.Request.Body = new MemoryStream(request.Body, writable: false);
        context.Request.Headers.Remove("Transfer-Encoding");
        context.Request.ContentLength = request.Body.Length;
        return request;
    }

    /// <summary>Reports to the limiters; a report that cannot be delivered only leaves the estimate counted.</summary>
    private async Task ReportQuietlyAsync(IEnumerable<string> limiters, UsageReport report)
    {
        foreach (var limiter in limiters)
        {
            try
            {
                using var timeout = new CancellationTokenSource(GatewayConstants.ReportTimeout, time);
                await floodgate.ReportUsageAsync(limiter, report, timeout.Token);
            }
            catch (Exception ex)
            {
                LogReportFailed(logger, ex.GetType().Name, limiter);
            }
        }
    }

    private static Uri Destination(GatewayUpstreamOptions settings, PathString path, OpenAiEndpoint endpoint)
    {
        var root = settings.BaseUrl!.EndsWith('/') ? settings.BaseUrl : settings.BaseUrl + "/";
        return new Uri(new Uri(root), endpoint switch
        {
            OpenAiEndpoint.ChatCompletions => "v1/chat/completions",
            OpenAiEndpoint.Completions => "v1/completions",
            OpenAiEndpoint.Embeddings => "v1/embeddings",
            _ => "v1/models",
        });
    }

    private static string? SingleHeader(HttpContext context, string name) =>
        context.Request.Headers.TryGetValue(name, out var values) && values.Count == 1 && !string.IsNullOrWhiteSpace(values[0]) ? values[0] : null;

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway request to {Upstream} of tenant {Tenant} refused: no permit of {Limiter} in time")]
    private static partial void LogRejected(ILogger logger, string upstream, string tenant, string limiter);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway forward ended with {Error} (permit lost: {Lost})")]
    private static partial void LogForwardFailed(ILogger logger, ForwarderError error, bool lost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway usage report to {Limiter} failed ({Error}); the estimate stays charged")]
    private static partial void LogReportFailed(ILogger logger, string error, string limiter);
}
