using System.Buffers.Binary;
using System.Numerics;

namespace Corral.Node.Metrics;

/// <summary>
/// Latencies in microseconds, counted in log-linear buckets (64 per power of two, so a percentile is within
/// ~1.6% of the true value) next to an exact sum, so the mean is exact and the memory fixed.
/// Not thread-safe: its owner serialises access.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 128;
    private const int Half = SubBuckets / 2;
    private const int BucketCount = SubBuckets + 40 * Half;
    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }
    public long SumMicros { get; private set; }

    public double MeanMs => Count == 0 ? 0 : SumMicros / 1000.0 / Count;

    public void Record(long micros)
    {
        micros = Math.Max(0, micros);
        _counts[IndexOf(micros)]++;
        Count++;
        SumMicros += micros;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0–1) in milliseconds; 0 when empty.</summary>
    public double PercentileMs(double q)
    {
        if (Count == 0) return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return ValueOf(i) / 1000.0;
        }

        return ValueOf(BucketCount - 1) / 1000.0;
    }

    internal static int IndexOf(long micros)
    {
        if (micros < SubBuckets) return (int)micros;
        var shift = Math.Min(63 - BitOperations.LeadingZeroCount((ulong)micros) - 6, 40);
        var top = Math.Min(micros >> shift, SubBuckets - 1);
        return SubBuckets + (shift - 1) * Half + (int)(top - Half);
    }

    /// <summary>The middle of a bucket, so the error is at most half a bucket either way.</summary>
    internal static long ValueOf(int index)
    {
        if (index < SubBuckets) return index;
        var shift = (index - SubBuckets) / Half + 1;
        var top = (index - SubBuckets) % Half + Half;
        return (top << shift) + (1L << shift) / 2;
    }

    /// <summary>The bucket counts as bytes (for the store): sparse pairs of (index, count).</summary>
    public byte[] ToBytes()
    {
        var used = _counts.Count(c => c != 0);
        var bytes = new byte[used * 12];
        var at = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            if (_counts[i] == 0) continue;
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), i);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at + 4), _counts[i]);
            at += 12;
        }

        return bytes;
    }

    public static LatencyHistogram FromBytes(ReadOnlySpan<byte> bytes, long sumMicros)
    {
        var histogram = new LatencyHistogram();
        for (var at = 0; at + 12 <= bytes.Length; at += 12)
        {
            var index = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
            var count = BinaryPrimitives.ReadInt64LittleEndian(bytes[(at + 4)..]);
            if (index is < 0 or >= BucketCount || count < 0) continue;
            histogram._counts[index] += count;
            histogram.Count += count;
        }

        histogram.SumMicros = sumMicros;
        return histogram;
    }

    public LatencyHistogram Clone() => FromBytes(ToBytes(), SumMicros);

    /// <summary>What was recorded since <paramref name="earlier"/>, a snapshot of this same histogram: a measurement window.</summary>
    public LatencyHistogram Since(LatencyHistogram earlier)
    {
        var window = new LatencyHistogram();
        for (var i = 0; i < BucketCount; i++)
        {
            window._counts[i] = Math.Max(0, _counts[i] - earlier._counts[i]);
            window.Count += window._counts[i];
        }

        window.SumMicros = Math.Max(0, SumMicros - earlier.SumMicros);
        return window;
    }
}
