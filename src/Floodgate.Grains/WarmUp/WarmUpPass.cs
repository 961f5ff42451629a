using System.Security.Cryptography;
using System.Text;
using Floodgate.Client;
using Floodgate.Client.Batches;
using Floodgate.Validation;
using Microsoft.Extensions.Options;

namespace Floodgate.Grains.WarmUp;

/// <summary>
/// The warm-up's way to its own batch through this silo's HTTP API, which, like every public entry point, refuses the
/// reserved names (<see cref="WarmUpNames.Prefix"/>). The warm-up's requests go to this silo only, over loopback, and carry
/// a pass drawn at random for this process in <see cref="Header"/>; with it, and for a warm-up name only, the API reads the
/// batch through the SDK's handle without the reserved-name rule. The pass lives in this process's memory only: it is
/// never configured, logged, stored or sent anywhere else, and it opens nothing but the warm-up's batches.
/// </summary>
public sealed class WarmUpPass
{
    /// <summary>The request header that carries the pass.</summary>
    public const string Header = "Floodgate-Warm-Up";

    private readonly byte[] _pass;
    private readonly IGrainFactory _grains;
    private readonly FloodgateClientOptions _options;
    private readonly TimeProvider _time;

    public WarmUpPass(IGrainFactory grains, IOptions<FloodgateClientOptions> options, TimeProvider time)
    {
        _grains = grains;
        _options = options.Value;
        _time = time;
        Value = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        _pass = Encoding.ASCII.GetBytes(Value);
    }

    /// <summary>The pass, for the warm-up's own requests to this silo.</summary>
    public string Value { get; }

    /// <summary>
    /// The handle of the warm-up batch <paramref name="batchId"/> when <paramref name="presented"/> is this process's pass;
    /// null for any other name or pass (the caller then takes the public path, which refuses a reserved name).
    /// </summary>
    public BatchHandle? Batch(string batchId, string? presented) =>
        WarmUpNames.IsWarmUp(batchId) && Names.Check("Batch id", batchId) is null && Matches(presented) ? new BatchHandle(batchId, _grains, _options, _time, initial: null) : null;

    private bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), _pass);
}
