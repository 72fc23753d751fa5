using System.Diagnostics;

namespace WsCore.Bench;

/// <summary>
/// Latency percentiles in microseconds, read from a <see cref="LatencyHistogram"/>: each percentile within
/// <see cref="LatencyHistogram.RelativePrecision"/> (0.4 %) of the exact one, the maximum exact.
/// </summary>
/// <param name="Count">How many latencies were measured.</param>
/// <param name="P50">The median: the latency of rank ⌊0.5 × count⌋ + 1 in ascending order.</param>
/// <param name="P90">The 90th percentile (rank ⌊0.9 × count⌋ + 1).</param>
/// <param name="P99">The 99th percentile (rank ⌊0.99 × count⌋ + 1).</param>
/// <param name="Max">The largest latency.</param>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double Max)
{
    /// <summary>The percentiles of <paramref name="ticks"/> (Stopwatch ticks); all 0 when it holds nothing.</summary>
    public static LatencySummary From(LatencyHistogram ticks)
    {
        if (ticks.Count == 0)
            return new LatencySummary(0, 0, 0, 0, 0);
        return new LatencySummary(
            ticks.Count,
            Microseconds(ticks.ValueAt(0.50)!.Value),
            Microseconds(ticks.ValueAt(0.90)!.Value),
            Microseconds(ticks.ValueAt(0.99)!.Value),
            Microseconds(ticks.Max));
    }

    internal static double Microseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
}
