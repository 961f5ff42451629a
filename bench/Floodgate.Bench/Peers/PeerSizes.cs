namespace Floodgate.Bench.Peers;

/// <summary>How big each peer scenario is: the sizes, or a <c>--quick</c> run small enough for CI.</summary>
internal sealed record PeerSizes(
    int NoOpItems,
    int NoOpLimit,
    int Limit10Items,
    int Limit60Items,
    int WaitCallers,
    int WaitPermits,
    int WaitRounds,
    int FairSmall,
    int FairLarge,
    int FairLimit,
    int[] RoundTripCallers,
    int RoundTripsPerCaller1,
    TimeSpan RoundTripWarmUp)
{
    /// <summary>Upstream latency of the simulator and of a BullMQ job in the utilization scenarios.</summary>
    public static readonly TimeSpan Upstream = TimeSpan.FromMilliseconds(50);

    public static readonly PeerSizes Full = new(
        NoOpItems: 100_000, NoOpLimit: 256, Limit10Items: 2_000, Limit60Items: 6_000,
        WaitCallers: 64, WaitPermits: 10, WaitRounds: 20, FairSmall: 50, FairLarge: 20_000, FairLimit: 60,
        RoundTripCallers: [1, 16, 64], RoundTripsPerCaller1: 2_000, RoundTripWarmUp: TimeSpan.FromSeconds(5));

    public static readonly PeerSizes Quick = new(
        NoOpItems: 2_000, NoOpLimit: 256, Limit10Items: 200, Limit60Items: 600,
        WaitCallers: 64, WaitPermits: 10, WaitRounds: 3, FairSmall: 20, FairLarge: 600, FairLimit: 60,
        RoundTripCallers: [1, 16], RoundTripsPerCaller1: 200, RoundTripWarmUp: TimeSpan.FromSeconds(0.5));

    /// <summary>
    /// Turns in which the round trips of Floodgate and its peer alternate (see <see cref="Latencies.InterleavedAsync"/>):
    /// up to 10, each of at least 20 round trips per caller, so a turn is not mostly its callers starting and finishing.
    /// </summary>
    public static int RoundTripTurns(int each) => Math.Clamp(each / 20, 1, 10);

    /// <summary>Round trips per caller at <paramref name="callers"/> callers (fewer each as callers grow).</summary>
    public int RoundTripsPerCaller(int callers) => Math.Max(20, RoundTripsPerCaller1 / callers * 2);
}
