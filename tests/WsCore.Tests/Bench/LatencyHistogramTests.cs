using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>
/// The live latency histogram behind the progress line's median: buckets, quantiles, concurrent recording.
/// </summary>
public sealed class LatencyHistogramTests
{
    [Fact]
    public void ValueAt_NothingRecorded_IsNull()
    {
        Assert.Null(new LatencyHistogram().ValueAt(0.5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(1_000)]
    [InlineData(123_456_789)]
    [InlineData(long.MaxValue)]
    public void BucketOf_AnyValue_ItsBucketsMiddleIsWithinThreePercent(long value)
    {
        var middle = LatencyHistogram.MiddleOf(LatencyHistogram.BucketOf(value));
        Assert.InRange((double)middle, value * 0.97, value * 1.03);
    }

    [Fact]
    public void BucketOf_ConsecutivePowersOfTwo_BucketsAscendWithoutGaps()
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
    public void ValueAt_Uniform1To10000_MedianAndP99WithinBucketPrecision()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 10_000; v++)
            histogram.Record(v);

        Assert.Equal(10_000, histogram.Count);
        Assert.InRange(histogram.ValueAt(0.5)!.Value, 4_850, 5_150);
        Assert.InRange(histogram.ValueAt(0.99)!.Value, 9_600, 10_200);
        Assert.InRange(histogram.ValueAt(0)!.Value, 1, 1);
    }

    [Fact]
    public void Record_FromManyThreadsAtOnce_EveryValueCounted()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (var v = 0; v < 10_000; v++)
                histogram.Record(1_000);
        });

        Assert.Equal(80_000, histogram.Count);
        Assert.InRange(histogram.ValueAt(0.5)!.Value, 970, 1_030);
    }
}
