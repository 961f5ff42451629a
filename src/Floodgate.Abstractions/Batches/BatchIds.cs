using System.Security.Cryptography;
using System.Text;

namespace Floodgate.Batches;

/// <summary>How batch ids are made.</summary>
public static class BatchIds
{
    /// <summary>
    /// A new id; with an idempotency key the id is derived from the key, so a repeated submission lands on the same
    /// batch grain and returns the same batch.
    /// </summary>
    public static string New(string? idempotencyKey = null)
    {
        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return "b-" + Guid.NewGuid().ToString("N")[..16];
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey));
        return "k-" + Convert.ToHexStringLower(hash)[..24];
    }
}
