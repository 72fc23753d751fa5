using System.Numerics;

namespace WsCore.Bench;

/// <summary>
/// Values (latencies in <see cref="System.Diagnostics.Stopwatch"/> ticks) counted in logarithmic buckets, 32 per
/// power of two, so any quantile read back is within about 3 % of the true one. Recording is one interlocked
/// increment and allocates nothing, and a quantile can be read while other threads record: this is what lets a
/// progress line show the median of a run still going without sorting its samples. The final percentiles of a run
/// come from every sample (<see cref="LatencySummary"/>), not from here.
/// </summary>
/// <remarks>Thread-safe: any number of threads may record and read at once.</remarks>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;

    // Values below 32 have a bucket each; above, each power of two 2^e (e = 5…62) is split into 32 buckets.
    private readonly long[] _counts = new long[(64 - SubBucketBits) * SubBuckets];
    private long _total;

    /// <summary>How many values were recorded.</summary>
    public long Count => Interlocked.Read(ref _total);

    /// <summary>Counts <paramref name="value"/> (negative values count as 0).</summary>
    public void Record(long value)
    {
        // The bucket before the total: a reader that saw the total finds at least that many values in the buckets.
        Interlocked.Increment(ref _counts[BucketOf(Math.Max(0, value))]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>
    /// The value at <paramref name="quantile"/> (0.5: the median) as the middle of its bucket, or null when nothing
    /// was recorded.
    /// </summary>
    public long? ValueAt(double quantile)
    {
        var total = Count;
        if (total == 0)
            return null;
        var rank = Math.Clamp((long)Math.Ceiling(quantile * total), 1, total);
        long seen = 0;
        for (var bucket = 0; bucket < _counts.Length; bucket++)
        {
            seen += Interlocked.Read(ref _counts[bucket]);
            if (seen >= rank)
                return MiddleOf(bucket);
        }
        return MiddleOf(_counts.Length - 1);
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
