using Floodgate.ProcessCluster.Measurements;

namespace Floodgate.Faults.Tests.Measurements;

/// <summary>The stall arithmetic of the harness, on plain numbers (no processes): a wrong formula would misreport every fault.</summary>
[Trait("Category", "Faults")]
public sealed class GapsTests
{
    [Fact]
    public void Longest_EventsInWindow_CountsTheGapsBeforeBetweenAndAfterThem()
    {
        Assert.Equal(S(4), Gaps.Longest([S(11), S(12), S(16)], from: S(10), to: S(17)));
        Assert.Equal(S(3), Gaps.Longest([S(11), S(12)], from: S(10), to: S(15)));
        Assert.Equal(S(5), Gaps.Longest([S(9), S(16)], from: S(10), to: S(15)));
    }

    [Fact]
    public void GrantStall_GrantsStopAtTheFault_StallIsFaultToFirstGrant()
    {
        (TimeSpan, TimeSpan)[] grants = [(S(9), S(9.5)), (S(21), S(22))];

        Assert.Equal((S(12), S(12)), Gaps.GrantStall(grants, faultAt: S(10), exitedAt: S(10)));
    }

    [Fact]
    public void GrantStall_SiloGrantsWhileStoppingThenStalls_StallIsTheGapAfterItsLastGrant()
    {
        // SIGTERM at 10; the stopping silo still grants at 11 and 12, exits at 13; the successor grants from 20.
        (TimeSpan, TimeSpan)[] grants = [(S(10.5), S(11)), (S(11.5), S(12)), (S(19), S(20)), (S(20), S(20.1))];

        Assert.Equal((S(8), S(10)), Gaps.GrantStall(grants, faultAt: S(10), exitedAt: S(13)));
    }

    [Fact]
    public void GrantStall_OnlyGrantsAskedForBeforeTheExit_NotResumedYet()
    {
        (TimeSpan, TimeSpan)[] grants = [(S(10.5), S(11)), (S(12.9), S(14))];

        Assert.Null(Gaps.GrantStall(grants, faultAt: S(10), exitedAt: S(13)));
    }

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
}
