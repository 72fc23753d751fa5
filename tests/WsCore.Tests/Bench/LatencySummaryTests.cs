using System.Diagnostics;
using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>The percentiles a bench reports, in microseconds, from a histogram of Stopwatch ticks.</summary>
public sealed class LatencySummaryTests
{
    [Fact]
    public void From_EmptyHistogram_AllZero()
    {
        Assert.Equal(new LatencySummary(0, 0, 0, 0, 0), LatencySummary.From(new LatencyHistogram()));
    }

    [Fact]
    public void From_OneToAThousandMicroseconds_PercentilesOfTheirRankInMicroseconds()
    {
        var histogram = new LatencyHistogram();
        for (var us = 1; us <= 1_000; us++)
            histogram.Record(us * Stopwatch.Frequency / 1_000_000);

        var summary = LatencySummary.From(histogram);

        Assert.Equal(1_000, summary.Count);
        // Ranks 501, 901 and 991, within the histogram's precision; the maximum exact.
        Assert.InRange(summary.P50, 501 * 0.996, 501 * 1.004);
        Assert.InRange(summary.P90, 901 * 0.996, 901 * 1.004);
        Assert.InRange(summary.P99, 991 * 0.996, 991 * 1.004);
        Assert.Equal(1_000, summary.Max, 6);
    }
}
