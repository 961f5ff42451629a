namespace Floodgate.ProcessCluster.Measurements;

/// <summary>
/// The arithmetic of stalls, apart from the loops that record events, so it can be checked on plain numbers: the
/// longest time without an event in a window, and the grant stall after a fault.
/// </summary>
public static class Gaps
{
    /// <summary>
    /// The longest time within [<paramref name="from"/>, <paramref name="to"/>] without an event: between
    /// <paramref name="from"/> and the first event, between consecutive events, and from the last event to <paramref name="to"/>.
    /// </summary>
    public static TimeSpan Longest(IEnumerable<TimeSpan> events, TimeSpan from, TimeSpan to)
    {
        var longest = TimeSpan.Zero;
        var previous = from;
        foreach (var at in events.Where(e => e >= from && e <= to).Order())
        {
            longest = Max(longest, at - previous);
            previous = at;
        }

        return Max(longest, to - previous);
    }

    /// <summary>
    /// The grant stall after a fault at <paramref name="faultAt"/> of a silo that exited at <paramref name="exitedAt"/>:
    /// grants resumed with the first grant whose request was sent after both (a silo shutting down may still grant, then
    /// stall); the stall is the longest time without a grant from the fault until then. Null while grants have not resumed.
    /// </summary>
    public static (TimeSpan Stall, TimeSpan ResumedAfter)? GrantStall(
        IEnumerable<(TimeSpan SentAt, TimeSpan GrantedAt)> grants,
        TimeSpan faultAt,
        TimeSpan exitedAt)
    {
        var since = grants.Where(g => g.GrantedAt >= faultAt).OrderBy(g => g.GrantedAt).ToList();
        var resumed = since.FirstOrDefault(g => g.SentAt >= exitedAt && g.SentAt >= faultAt);
        if (resumed == default)
        {
            return null;
        }

        return (Longest(since.Select(g => g.GrantedAt), faultAt, resumed.GrantedAt), resumed.GrantedAt - faultAt);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
