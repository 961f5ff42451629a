using System.ComponentModel.DataAnnotations;

namespace Floodgate.Gateway;

/// <summary>
/// The OpenAI-compatible gateway (section <c>Floodgate:Gateway</c>): the upstream accounts requests are forwarded to,
/// how long a request may queue for a permit, and the virtual keys clients present. With no upstream configured the
/// gateway endpoints answer 404; with no key configured they are open (local development).
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Floodgate:Gateway";

    /// <summary>Upstream accounts by name (letters, digits, <c>-</c>, <c>_</c>, <c>.</c>).</summary>
    public Dictionary<string, GatewayUpstreamOptions> Upstreams { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The upstream of requests that name none (no route prefix, no header); default: the only one configured.</summary>
    public string? DefaultUpstream { get; set; }

    /// <summary>
    /// Longest a request waits for its permits before it is answered 429 with <c>Retry-After</c>.
    /// <value>Default 30 s.</value>
    /// </summary>
    public TimeSpan MaxQueueTime { get; set; } = GatewayConstants.MaxQueueTime;

    /// <summary>
    /// Completion tokens assumed for a request that sets no <c>max_tokens</c>, in its token estimate (corrected by the
    /// upstream's reported usage afterwards). <value>Default 256.</value>
    /// </summary>
    [Range(0, 1_000_000)]
    public int DefaultMaxTokens { get; set; } = GatewayConstants.DefaultMaxTokens;

    /// <summary>Virtual keys; clients send one as <c>Authorization: Bearer &lt;key&gt;</c>. Empty: the gateway is open.</summary>
    public List<GatewayKeyOptions> Keys { get; set; } = [];

    /// <summary>The upstream named <paramref name="name"/>, or the default one when <paramref name="name"/> is null.</summary>
    internal (string Name, GatewayUpstreamOptions Options)? Resolve(string? name)
    {
        name ??= DefaultUpstream ?? (Upstreams.Count == 1 ? Upstreams.Keys.Single() : null);
        return name is not null && Upstreams.TryGetValue(name, out var upstream) ? (name, upstream) : null;
    }
}

/// <summary>One upstream account (<c>Floodgate:Gateway:Upstreams:{name}</c>).</summary>
public sealed class GatewayUpstreamOptions
{
    /// <summary>The server's root, before <c>/v1</c> (e.g. <c>https://api.openai.com/</c>); request paths are appended.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The upstream account's key (secret): sent as <c>Authorization: Bearer</c>, never returned, logged or accepted from clients.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The global limiter every request to this upstream passes. <value>Default <c>gateway:{name}</c>.</value></summary>
    public string? Limiter { get; set; }

    /// <summary>The account's concurrency (fills <c>Floodgate:Limiters:Limits</c> for <see cref="Limiter"/>).</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>The account's requests per minute (fills <c>Floodgate:Limiters:RequestsPerMinute</c>).</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>The account's model tokens per minute (fills <c>Floodgate:Limiters:TokensPerMinute</c>).</summary>
    public int? TokensPerMinute { get; set; }

    /// <summary>Nested per-model limiters: a request for model <c>{model}</c> also passes limiter <c>ModelLimiters:{model}</c>.</summary>
    public Dictionary<string, string> ModelLimiters { get; set; } = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string ToString() => $"upstream {BaseUrl} (limiter {Limiter})"; // never the key
}

/// <summary>One virtual key (<c>Floodgate:Gateway:Keys:{n}</c>).</summary>
public sealed class GatewayKeyOptions
{
    /// <summary>The key clients present (secret, 16–512 printable characters).</summary>
    public string? Key { get; set; }

    /// <summary>The tenant the key belongs to: the holder its requests queue as (round-robin across tenants).</summary>
    public string? Tenant { get; set; }

    /// <summary>The tenant's own concurrency cap, under the account's; null: none.</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>The tenant's own requests per minute, under the account's; null: none.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>
    /// Serve this key's deterministic requests (embeddings; chat and completions with <c>temperature: 0</c>, one choice,
    /// not streamed) from the shared cache (<c>Floodgate:Cache</c>): identical requests cost one upstream call.
    /// <value>Default false: the key's requests never read or write the cache.</value>
    /// </summary>
    public bool Cache { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"key of tenant {Tenant}"; // never the key
}
