using System.Globalization;

namespace Floodgate.Bench.Peers;

/// <summary>
/// One line of the peers table: Floodgate's figure, the peer's from the same run, their ratio, and the machine's load
/// average when the line was written (the pair's measurements end then).
/// </summary>
internal sealed record PeerRow(string Scenario, string Ours, string Peer, string Theirs, double Ratio, bool HigherIsBetter, string Load)
{
    public static PeerRow Higher(string scenario, double ours, string peer, double theirs, Func<double, string> format) =>
        new(scenario, format(ours), peer, format(theirs), ours / theirs, true, MachineInfo.LoadAverage() ?? "-");

    public static PeerRow Lower(string scenario, double ours, string peer, double theirs, Func<double, string> format) =>
        new(scenario, format(ours), peer, format(theirs), ours / theirs, false, MachineInfo.LoadAverage() ?? "-");

    public string ToMarkdown() => string.Create(CultureInfo.InvariantCulture,
        $"| {Scenario} | {Ours} | {Peer} | {Theirs} | **{(Ratio < 0.01 ? Ratio.ToString("0.000", CultureInfo.InvariantCulture) : Ratio.ToString("0.00", CultureInfo.InvariantCulture))}×** {(HigherIsBetter ? "↑" : "↓")} | {Load} |");
}
