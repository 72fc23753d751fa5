using System.Numerics;

namespace WsCore.Bench;

/// <summary>
/// Values (latencies in <see cref="System.Diagnostics.Stopwatch"/> ticks) counted in logarithmic buckets, 128 per
/// power of two, so a run's percentiles cost a fixed 58 KiB however long it runs, instead of a list of every sample.
/// A quantile read back is the middle of the bucket holding the true one: within 0.4 % of it (values below 128 are
/// exact), and never above the largest value recorded, which is kept exactly. Recording is two interlocked operations
/// and allocates nothing, and a quantile can be read while other threads record (the progress line's median).
/// </summary>
/// <remarks>Thread-safe: any number of threads may record and read at once.</remarks>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;

    /// <summary>
    /// The largest error of a quantile, relative to the true value: half a bucket, whose width is 1/128 of the power
    /// of two it lies above.
    /// </summary>
    public const double RelativePrecision = 0.5 / SubBuckets;

    // Values below 128 have a bucket each; above, each power of two 2^e (e = 7…62) is split into 128 buckets.
    private readonly long[] _counts = new long[(64 - SubBucketBits) * SubBuckets];
    private long _total;
    private long _max;

    /// <summary>How many values were recorded.</summary>
    public long Count => Interlocked.Read(ref _total);

    /// <summary>The largest value recorded, exactly (0 when none).</summary>
    public long Max => Interlocked.Read(ref _max);

    /// <summary>Counts <paramref name="value"/> (negative values count as 0).</summary>
    public void Record(long value)
    {
        value = Math.Max(0, value);
        // The bucket before the total: a reader that saw the total finds at least that many values in the buckets.
        Interlocked.Increment(ref _counts[BucketOf(value)]);
        RaiseMax(value);
        Interlocked.Increment(ref _total);
    }

    /// <summary>Adds every value <paramref name="other"/> holds (read while it may still be recording).</summary>
    public void Add(LatencyHistogram other)
    {
        for (var bucket = 0; bucket < _counts.Length; bucket++)
        {
            var count = Interlocked.Read(ref other._counts[bucket]);
            if (count != 0)
                Interlocked.Add(ref _counts[bucket], count);
        }
        RaiseMax(other.Max);
        Interlocked.Add(ref _total, other.Count);
    }

    /// <summary>
    /// The value at <paramref name="quantile"/> (0.5: the median): the one of rank ⌊quantile × count⌋ + 1 in
    /// ascending order, as the middle of its bucket (at most <see cref="Max"/>), or null when nothing was recorded.
    /// </summary>
    public long? ValueAt(double quantile)
    {
        var total = Count;
        if (total == 0)
            return null;
        var rank = Math.Clamp((long)(quantile * total) + 1, 1, total);
        long seen = 0;
        for (var bucket = 0; bucket < _counts.Length; bucket++)
        {
            seen += Interlocked.Read(ref _counts[bucket]);
            if (seen >= rank)
                return Math.Min(MiddleOf(bucket), Max);
        }
        return Max;
    }

    private void RaiseMax(long value)
    {
        var max = Interlocked.Read(ref _max);
        while (value > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, max);
            if (seen == max)
                return;
            max = seen;
        }
    }

    internal static int BucketOf(long value)
    {
        if (value < SubBuckets)
            return (int)value;
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = exponent - SubBucketBits;
        var mantissa = (int)(value >> shift) - SubBuckets;
        return (shift + 1) * SubBuckets + mantissa;
    }

    internal static long MiddleOf(int bucket)
    {
        if (bucket < SubBuckets)
            return bucket;
        var shift = bucket / SubBuckets - 1;
        var low = (long)(SubBuckets + bucket % SubBuckets) << shift;
        return low + ((1L << shift) >> 1);
    }
}
