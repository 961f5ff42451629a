using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Floodgate.Gateway.Authentication;

/// <summary>A configured virtual key's tenant, caps and cache option (the key itself is kept only as a digest).</summary>
internal sealed record GatewayTenant(string Name, int? MaxConcurrency, int? RequestsPerMinute, bool Cache = false)
{
    /// <summary>The limiter holding the tenant's own caps; null when it has none.</summary>
    public string? CapLimiter => MaxConcurrency is null && RequestsPerMinute is null ? null : GatewayConstants.TenantLimiter(Name);
}

/// <summary>
/// The virtual keys, kept as SHA-256 digests. A presented key is hashed and compared with every digest in constant time,
/// so neither timing nor length tells a caller how close a guess was.
/// </summary>
internal sealed class GatewayKeyRing(IOptions<GatewayOptions> options)
{
    private readonly (byte[] Digest, GatewayTenant Tenant)[] _keys = options.Value.Keys
        .Where(k => k.Key is not null && k.Tenant is not null)
        .Select(k => (Digest(k.Key!), new GatewayTenant(k.Tenant!, k.MaxConcurrency, k.RequestsPerMinute, k.Cache)))
        .ToArray();

    /// <summary>True when no key is configured: every request is admitted as <see cref="GatewayConstants.OpenTenant"/>.</summary>
    public bool IsOpen => _keys.Length == 0;

    /// <summary>Every tenant with its caps (for the limiters' configuration).</summary>
    public IEnumerable<GatewayTenant> Tenants => _keys.Select(k => k.Tenant).DistinctBy(t => t.Name);

    /// <summary>The tenant of <paramref name="presented"/>; null when it matches no key.</summary>
    public GatewayTenant? Find(string presented)
    {
        var digest = Digest(presented);
        GatewayTenant? found = null;
        foreach (var (candidate, tenant) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, candidate))
            {
                found = tenant;
            }
        }

        return found;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
