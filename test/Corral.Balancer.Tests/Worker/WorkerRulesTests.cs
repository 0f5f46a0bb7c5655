using Corral.Balancer.Worker;
using Corral.Node.Randomness;

namespace Corral.Balancer.Tests.Worker;

public sealed class WorkerRulesTests
{
    [Theory]
    [InlineData(12, 120)]
    [InlineData(0, 0)]
    [InlineData(100, 1000)]
    [InlineData(33.3, 333)]
    public void Failure_schedule_fails_exactly_the_percent_of_each_block(double percent, int expected)
    {
        var schedule = new FailureSchedule(new SeededRandom(42, "worker-1"));
        for (var block = 0; block < 3; block++)
        {
            var failures = Enumerable.Range(1, 1000).Count(i => schedule.Fails(block * 1000L + i, percent));
            Assert.Equal(expected, failures);
        }
    }

    [Fact]
    public void Failure_schedule_is_seeded_per_worker()
    {
        bool[] Pattern(long seed, string worker)
        {
            var schedule = new FailureSchedule(new SeededRandom(seed, worker));
            return Enumerable.Range(1, 1000).Select(i => schedule.Fails(i, 12)).ToArray();
        }

        Assert.Equal(Pattern(1, "worker-1"), Pattern(1, "worker-1"));
        Assert.NotEqual(Pattern(1, "worker-1"), Pattern(1, "worker-2"));
        Assert.NotEqual(Pattern(1, "worker-1"), Pattern(2, "worker-1"));
        // Not front-loaded: failures spread over the block.
        var pattern = Pattern(1, "worker-1");
        Assert.InRange(pattern.Take(500).Count(f => f), 30, 90);
    }

    [Fact]
    public void Stats_are_exact_under_concurrency()
    {
        var stats = new WorkerStats("worker-1");
        Parallel.For(0, 16, client =>
        {
            for (var i = 0; i < 1000; i++) stats.Record(i % 10 != 0, 1000 + client);
        });
        var (row, _) = stats.Snapshot(DateTimeOffset.UtcNow);
        Assert.Equal(16_000, row.Total);
        Assert.Equal(1_600, row.Failed);
        var expectedMean = Enumerable.Range(0, 16).Average(c => 1000.0 + c) / 1000.0;
        Assert.Equal(expectedMean, row.MeanMs, 9);
    }

    [Fact]
    public void Faults_request_validates()
    {
        var current = new FaultSettings { AvgDelay = TimeSpan.FromMilliseconds(500), FailurePercent = 12 };
        Assert.Contains("failure", new FaultsRequest { Failure = 101 }.ApplyTo(current).Error);
        Assert.Contains("avgDelay", new FaultsRequest { AvgDelay = "5 parsecs" }.ApplyTo(current).Error);
        Assert.Contains("outage", new FaultsRequest { Outage = "maybe" }.ApplyTo(current).Error);
        var (next, error) = new FaultsRequest { Outage = "refuse", AvgDelay = "10ms" }.ApplyTo(current);
        Assert.Null(error);
        Assert.Equal(OutageMode.Refuse, next!.Outage);
        Assert.Equal(TimeSpan.FromMilliseconds(10), next.AvgDelay);
        Assert.Equal(12, next.FailurePercent);
    }
}
