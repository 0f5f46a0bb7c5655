using Corral.WorkQueue.Controller;

namespace Corral.WorkQueue.Tests.Reporter;

public sealed class RunMonitorTests
{
    [Fact]
    public void A_cheap_look_at_the_run_is_followed_by_the_short_pause()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(200), RunMonitor.PauseAfterLook(TimeSpan.FromMilliseconds(3)));
    }

    [Fact]
    public void A_costly_look_is_followed_by_nine_times_its_cost_so_the_monitor_holds_the_store_a_tenth_of_the_time()
    {
        var cost = TimeSpan.FromMilliseconds(140);

        var pause = RunMonitor.PauseAfterLook(cost);

        Assert.Equal(TimeSpan.FromMilliseconds(1260), pause);
        Assert.Equal(0.1, cost / (cost + pause), precision: 6);
    }
}
