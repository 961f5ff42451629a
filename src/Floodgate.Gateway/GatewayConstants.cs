namespace Floodgate.Gateway;

/// <summary>Defaults, bounds and wire names of the gateway, in one place.</summary>
internal static class GatewayConstants
{
    public static readonly TimeSpan MaxQueueTime = TimeSpan.FromSeconds(30);

    public const int DefaultMaxTokens = 256;

    /// <summary>Limiter of upstream <c>{0}</c> when it names none.</summary>
    public const string DefaultLimiterFormat = "gateway:{0}";

    /// <summary>Limiter holding a tenant's own caps.</summary>
    public const string TenantLimiterFormat = "gateway-tenant:{0}";

    /// <summary>Holder of requests on an open gateway (no keys configured).</summary>
    public const string OpenTenant = "open";

    /// <summary>Header naming the upstream (the route prefix <c>/upstreams/{name}</c> does the same).</summary>
    public const string UpstreamHeader = "X-Floodgate-Upstream";

    public const string UpstreamRoutePrefix = "/upstreams/{upstream}";

    public const int MinKeyLength = 16;

    public const int MaxKeyLength = 512;

    /// <summary>Largest request body read (the body is parsed for the model and the token estimate).</summary>
    public const int MaxRequestBodyBytes = 16 * 1024 * 1024;

    /// <summary>How long the end-of-call usage report may take before the permits are released without it.</summary>
    public static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(5);

    public static string DefaultLimiter(string upstream) => string.Format(System.Globalization.CultureInfo.InvariantCulture, DefaultLimiterFormat, upstream);

    public static string TenantLimiter(string tenant) => string.Format(System.Globalization.CultureInfo.InvariantCulture, TenantLimiterFormat, tenant);
}
