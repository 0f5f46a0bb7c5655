using Corral.Balancer.Config;
using Corral.Balancer.Health;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Balancer.Tests.Health;

public sealed class HealthTests
{
    [Fact]
    public void Active_health_goes_down_after_N_failures_and_up_after_M_successes()
    {
        var health = new ActiveHealth();
        Assert.True(health.IsHealthy);
        Assert.False(health.Observe(false, unhealthyAfter: 3, healthyAfter: 2));
        Assert.False(health.Observe(false, 3, 2));
        // A success in between resets the failure run.
        Assert.False(health.Observe(true, 3, 2));
        Assert.False(health.Observe(false, 3, 2));
        Assert.False(health.Observe(false, 3, 2));
        Assert.True(health.IsHealthy);
        Assert.True(health.Observe(false, 3, 2));
        Assert.False(health.IsHealthy);
        Assert.False(health.Observe(true, 3, 2));
        Assert.False(health.IsHealthy);
        Assert.False(health.Observe(false, 3, 2));
        Assert.False(health.Observe(true, 3, 2));
        Assert.True(health.Observe(true, 3, 2));
        Assert.True(health.IsHealthy);
    }

    private static readonly PassiveHealthConfig Passive = new()
    {
        ConsecutiveFailures = 3,
        BaseEjection = TimeSpan.FromSeconds(1),
        MaxEjection = TimeSpan.FromSeconds(4),
    };

    [Fact]
    public void Consecutive_failures_eject_and_a_success_resets_the_run()
    {
        var time = new FakeTimeProvider();
        var outlier = new OutlierDetector();
        Assert.Null(outlier.RecordFailure(time.GetUtcNow(), Passive));
        Assert.Null(outlier.RecordFailure(time.GetUtcNow(), Passive));
        outlier.RecordSuccess();
        Assert.Null(outlier.RecordFailure(time.GetUtcNow(), Passive));
        Assert.Null(outlier.RecordFailure(time.GetUtcNow(), Passive));
        Assert.False(outlier.IsEjected(time.GetUtcNow()));
        Assert.Equal(TimeSpan.FromSeconds(1), outlier.RecordFailure(time.GetUtcNow(), Passive));
        Assert.True(outlier.IsEjected(time.GetUtcNow()));
        // Failures of requests that were in flight when it was ejected change nothing.
        Assert.Null(outlier.RecordFailure(time.GetUtcNow(), Passive));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(outlier.IsEjected(time.GetUtcNow()));
        Assert.Equal(1, outlier.Ejections);
    }

    [Fact]
    public void A_refused_connection_ejects_at_once()
    {
        var time = new FakeTimeProvider();
        var outlier = new OutlierDetector();
        Assert.Equal(TimeSpan.FromSeconds(1), outlier.RecordFailure(time.GetUtcNow(), Passive, immediate: true));
        Assert.True(outlier.IsEjected(time.GetUtcNow()));
    }

    [Fact]
    public void Repeated_ejections_grow_up_to_the_cap_and_healthy_time_shrinks_them_again()
    {
        var time = new FakeTimeProvider();
        var outlier = new OutlierDetector();
        var lengths = new List<TimeSpan>();
        for (var i = 0; i < 6; i++)
        {
            lengths.Add(outlier.RecordFailure(time.GetUtcNow(), Passive, immediate: true)!.Value);
            // Fails again the moment its ejection ends.
            time.Advance(lengths[^1]);
        }

        Assert.Equal(new[] { 1, 2, 3, 4, 4, 4 }.Select(s => TimeSpan.FromSeconds(s)), lengths);
        Assert.Equal(6, outlier.Ejections);

        // Two base periods of good behaviour lower the multiplier by two (Envoy's decay).
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(4), outlier.RecordFailure(time.GetUtcNow(), Passive, immediate: true));
        time.Advance(TimeSpan.FromSeconds(4 + 60));
        Assert.Equal(TimeSpan.FromSeconds(1), outlier.RecordFailure(time.GetUtcNow(), Passive, immediate: true));
    }

    [Fact]
    public void The_retry_budget_is_a_share_of_the_requests_in_flight_with_a_floor()
    {
        var budget = new Corral.Balancer.Proxy.RetryBudget();
        Assert.True(budget.TryAcquire(activeRequests: 10, percent: 20, minConcurrency: 3));
        Assert.True(budget.TryAcquire(10, 20, 3));
        Assert.True(budget.TryAcquire(10, 20, 3));
        Assert.False(budget.TryAcquire(10, 20, 3));
        // With 100 requests in flight, 20 retries may be.
        Assert.True(budget.TryAcquire(100, 20, 3));
        budget.Release(4);
        Assert.Equal(0, budget.InFlight);
        Assert.False(budget.TryAcquire(100, 0, 0));
    }
}
