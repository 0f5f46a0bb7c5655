using Corral.Node.Control;
using Corral.Node.Dashboard;
using Corral.Supervisor.Dashboard;

namespace Corral.Dashboard.Tests.Feed;

public sealed class DashboardFeedTests
{
    [Theory]
    [InlineData("12:00:01.250 WRN worker worker-3 outage: refusing connections", "WRN")]
    [InlineData("12:00:01.250 ERR boom", "ERR")]
    [InlineData("12:00:01.250 DBG", "DBG")]
    [InlineData("1:17:05.001 # Server initialized", "INF")]
    [InlineData("lb-1 started (pid 12)", "INF")]
    [InlineData("12:00:01.250 XYZ not a level", "INF")]
    public void A_lines_level_is_read_from_the_node_log_format(string line, string level) =>
        Assert.Equal(level, DashboardFeed.LevelOf(line));

    [Fact]
    public async Task A_new_subscriber_gets_the_state_now_then_each_change()
    {
        var feed = new DashboardFeed();
        feed.Hello(new DashboardHello("run-1", "balancer", "Balancer"));
        feed.Nodes(new DashboardNodes([new DashboardNode { NodeId = "worker-1", Role = "balancer.worker", State = NodeState.Ready }], [], DateTimeOffset.UnixEpoch));
        feed.NodeLine("worker-1", "12:00:00.000 INF first");

        using var subscription = feed.Subscribe();
        feed.SupervisorLine("worker-1 started (pid 7)");

        Assert.Contains("event: hello", subscription.First);
        Assert.Contains("\"nodeId\":\"worker-1\"", subscription.First);
        Assert.Contains("INF first", subscription.First);
        Assert.True(subscription.Events.TryRead(out var next));
        Assert.Contains("\"node\":\"corral\"", next);
        Assert.Contains("worker-1 started (pid 7)", next);
        Assert.Equal("12:00:00.000 INF first", feed.LastLine("worker-1"));
        feed.Complete();
        Assert.False(await subscription.Events.WaitToReadAsync());
    }

    [Fact]
    public void Only_the_last_lines_are_kept()
    {
        var feed = new DashboardFeed();
        for (var i = 0; i < DashboardFeed.Kept + 10; i++) feed.NodeLine("n", $"line {i}");

        var recent = feed.Recent(null);

        Assert.Equal(DashboardFeed.Kept, recent.Count);
        Assert.Equal("line 10", recent[0].Text);
        Assert.Empty(feed.Recent("other"));
    }
}
