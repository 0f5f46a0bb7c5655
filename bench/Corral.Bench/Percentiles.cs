namespace Corral.Bench;

/// <summary>Exact percentiles over every measured latency (a benchmark keeps them all).</summary>
internal static class Percentiles
{
    public static double Of(long[] sortedTicks, double q)
    {
        if (sortedTicks.Length == 0) return 0;
        var index = (int)Math.Clamp(Math.Ceiling(q * sortedTicks.Length) - 1, 0, sortedTicks.Length - 1);
        return sortedTicks[index] * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
    }
}
