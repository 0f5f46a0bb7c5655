using Corral.Node.Metrics;

namespace Corral.Node.Tests.Metrics;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void The_mean_is_exact_and_percentiles_are_within_two_percent()
    {
        var histogram = new LatencyHistogram();
        var values = Enumerable.Range(1, 10_000).Select(i => (long)i * 37).ToArray();
        foreach (var v in values) histogram.Record(v);

        Assert.Equal(values.Average() / 1000.0, histogram.MeanMs, 9);
        var sorted = values.Order().ToArray();
        Assert.InRange(histogram.PercentileMs(0.5), sorted[4999] / 1000.0 * 0.98, sorted[4999] / 1000.0 * 1.02);
        Assert.InRange(histogram.PercentileMs(0.99), sorted[9899] / 1000.0 * 0.98, sorted[9899] / 1000.0 * 1.02);
        var restored = LatencyHistogram.FromBytes(histogram.ToBytes(), histogram.SumMicros);
        Assert.Equal(histogram.Count, restored.Count);
        Assert.Equal(histogram.PercentileMs(0.99), restored.PercentileMs(0.99));
    }

    [Fact]
    public void Since_gives_the_window_between_two_snapshots()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 1000; i++) histogram.Record(100_000); // a slow, cold start: 100 ms each
        var before = histogram.Clone();
        for (var i = 0; i < 1000; i++) histogram.Record(1_000);   // then warm: 1 ms each

        var window = histogram.Since(before);

        Assert.Equal(1000, window.Count);
        Assert.Equal(1.0, window.MeanMs, 9);
        Assert.InRange(window.PercentileMs(0.99), 0.98, 1.02);
        Assert.True(histogram.PercentileMs(0.99) > 90, "the whole history still holds the cold start");
    }
}
