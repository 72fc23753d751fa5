using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>
/// The latency histogram every bench percentile comes from: buckets, quantiles against the sorted samples, the exact
/// maximum, adding histograms, concurrent recording, and no memory per value.
/// </summary>
public sealed class LatencyHistogramTests
{
    [Fact]
    public void ValueAt_NothingRecorded_IsNull()
    {
        Assert.Null(new LatencyHistogram().ValueAt(0.5));
        Assert.Equal(0, new LatencyHistogram().Max);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(1_000)]
    [InlineData(123_456_789)]
    [InlineData(long.MaxValue)]
    public void BucketOf_AnyValue_ItsBucketsMiddleIsWithinRelativePrecision(long value)
    {
        var middle = LatencyHistogram.MiddleOf(LatencyHistogram.BucketOf(value));
        var precision = LatencyHistogram.RelativePrecision;
        Assert.InRange((double)middle, value * (1 - precision), value * (1 + precision));
    }

    [Fact]
    public void RelativePrecision_IsBelowOnePercent()
    {
        Assert.True(LatencyHistogram.RelativePrecision < 0.004);
    }

    [Fact]
    public void BucketOf_ConsecutiveValues_BucketsAscendWithoutGaps()
    {
        var previous = -1;
        for (long value = 0; value < 1 << 16; value++)
        {
            var bucket = LatencyHistogram.BucketOf(value);
            Assert.True(
                bucket == previous || bucket == previous + 1, $"value {value}: bucket {bucket} after {previous}");
            previous = bucket;
        }
    }

    [Fact]
    public void ValueAt_Uniform1To10000_QuantilesOfTheirRankWithinPrecision()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 10_000; v++)
            histogram.Record(v);

        Assert.Equal(10_000, histogram.Count);
        // Rank ⌊q × n⌋ + 1: the 5,001st and the 9,901st value.
        Assert.InRange(histogram.ValueAt(0.5)!.Value, 5_001 * 0.996, 5_001 * 1.004);
        Assert.InRange(histogram.ValueAt(0.99)!.Value, 9_901 * 0.996, 9_901 * 1.004);
        Assert.Equal(1, histogram.ValueAt(0));
        Assert.Equal(10_000, histogram.ValueAt(1));
        Assert.Equal(10_000, histogram.Max);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ValueAt_LongTailedLatencies_EachPercentileWithinPrecisionOfTheSortedSamples(int seed)
    {
        // Latencies as a bench sees them in Stopwatch ticks (ns on Linux): mostly tens of µs, a tail to tens of ms.
        var random = new Random(seed);
        var samples = Enumerable.Range(0, 100_000)
            .Select(_ => (long)(20_000 * Math.Exp(random.NextDouble() * random.NextDouble() * 8)))
            .ToArray();
        var histogram = new LatencyHistogram();
        foreach (var sample in samples)
            histogram.Record(sample);
        Array.Sort(samples);

        foreach (var quantile in new[] { 0.0, 0.5, 0.9, 0.99, 0.999, 1.0 })
        {
            // What the bench reported when it kept every sample: the one at index ⌊q × n⌋ of the sorted list.
            var exact = samples[Math.Min(samples.Length - 1, (int)(quantile * samples.Length))];
            var read = histogram.ValueAt(quantile)!.Value;
            Assert.True(
                Math.Abs(read - exact) <= exact * LatencyHistogram.RelativePrecision,
                $"q {quantile}: {read} read, {exact} exact");
        }
        Assert.Equal(samples[^1], histogram.Max);
    }

    [Fact]
    public void ValueAt_TopQuantileInTheMaximumsBucket_NeverAboveTheMaximum()
    {
        var histogram = new LatencyHistogram();
        // 1,000,000 lies low in its bucket (999,424 to 1,003,519): the middle, 1,001,472, would be above it.
        histogram.Record(1_000_000);

        Assert.Equal(1_000_000, histogram.ValueAt(0.99));
        Assert.Equal(1_000_000, histogram.Max);
    }

    [Fact]
    public void Record_NegativeValue_CountsAsZero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);

        Assert.Equal(0, histogram.ValueAt(0.5));
        Assert.Equal(1, histogram.Count);
    }

    [Fact]
    public void Add_TwoHistograms_CountsQuantilesAndMaximumOfBoth()
    {
        var low = new LatencyHistogram();
        var high = new LatencyHistogram();
        for (var v = 1; v <= 100; v++)
        {
            low.Record(v);
            high.Record(1_000 + v);
        }

        var both = new LatencyHistogram();
        both.Add(low);
        both.Add(high);

        Assert.Equal(200, both.Count);
        Assert.Equal(1_100, both.Max);
        Assert.Equal(100, both.ValueAt(0.495));
        Assert.InRange(both.ValueAt(0.5)!.Value, 1_001 * 0.996, 1_001 * 1.004);
        Assert.Equal(100, low.Count);
    }

    [Fact]
    public void Record_FromManyThreadsAtOnce_EveryValueCounted()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, thread =>
        {
            for (var v = 0; v < 10_000; v++)
                histogram.Record(1_000 + thread);
        });

        Assert.Equal(80_000, histogram.Count);
        Assert.Equal(1_007, histogram.Max);
        Assert.InRange(histogram.ValueAt(0.5)!.Value, 996, 1_012);
    }

    [Fact]
    public void Record_AMillionValues_AllocatesNothing()
    {
        // A run's memory does not grow with its length: recording keeps no sample.
        var histogram = new LatencyHistogram();
        histogram.Record(1);
        var before = GC.GetAllocatedBytesForCurrentThread();

        for (var v = 0L; v < 1_000_000; v++)
            histogram.Record(v * 977);

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(1_000_001, histogram.Count);
    }
}
