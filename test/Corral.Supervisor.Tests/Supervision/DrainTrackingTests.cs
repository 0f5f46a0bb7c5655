using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>
/// A drained node stays tracked until its process has exited: its successor of the same id waits for it, the
/// membership keeps the successor when the old process finally leaves, and stopping the run waits for it.
/// Nodes here ignore SIGTERM, so a drained one lingers for the whole grace period: the window the defects lived in.
/// </summary>
public sealed class DrainTrackingTests
{
    /// <summary>
    /// Long enough that the steps a test takes while a node drains (two edits, each waiting for the supervisor's poll and
    /// plan line) fit inside it with both cores busy; each test waits it out once, since its nodes ignore SIGTERM.
    /// </summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Scaling_down_then_up_at_once_starts_the_successor_after_its_predecessor_exited_and_keeps_it_a_member()
    {
        var a = StubApp.Role("a", 2, "--ignore-sigterm") with { Scalable = true };
        await using var h = await new Harness(StubApp.Loaded(a), o => o with { GracePeriod = Grace }).StartAsync();
        using var http = Authorised(h);
        await h.WaitReadyAsync(60, "a-1", "a-2");
        var events = WatchMembership(h, out var watching);
        var oldPid = h.Node("a-2").Pid!.Value;

        await ScaleAsync(http, 1);
        await ScaleAsync(http, 2);

        // The old a-2 is still listed, as draining, next to its pending successor.
        var listed = h.Supervisor.Nodes().Where(n => n.NodeId == "a-2").ToArray();
        Assert.Contains(listed, n => n.State == NodeState.Draining && n.Pid == oldPid && n.Instance == 1);
        Assert.Contains(listed, n => n.Instance == 2 && n.Pid is null);

        await h.WaitLineAsync("corral", $"a-2 stopped (exit");
        await Eventually.TrueAsync(() => h.Sink.Count("corral", "a-2 started") == 2, TimeSpan.FromSeconds(60), "the successor started\n" + h.Sink.Dump());
        Assert.True(h.Sink.At("corral", "a-2 stopped (exit") < Last(h, "a-2 started"), h.Sink.Dump());
        await h.WaitReadyAsync(60, "a-2");
        Assert.Equal(2, h.Node("a-2").Instance);
        Assert.Single(h.Supervisor.Nodes(), n => n.NodeId == "a-2");

        // The old process left the membership as a drain (draining, then left); the successor stays a member.
        await Eventually.TrueAsync(() => Changes(events).Contains((MembershipChange.Joined, "a-2", 2L)), TimeSpan.FromSeconds(30), "a-2 #2 joined");
        var changes = Changes(events).Where(c => c.NodeId == "a-2").ToArray();
        Assert.Equal([(MembershipChange.Draining, "a-2", 1L), (MembershipChange.Left, "a-2", 1L), (MembershipChange.Joined, "a-2", 2L)], changes);
        MembershipEvent draining;
        lock (events)
        {
            draining = events.First(e => e.Change == MembershipChange.Draining);
        }

        Assert.Equal(MemberState.Draining, draining.Member!.State);
        Assert.Contains(draining.Snapshot.DrainingOf("test.a"), m => m.NodeId == "a-2");
        Assert.DoesNotContain(draining.Snapshot.OfRole("test.a"), m => m.NodeId == "a-2");
        var member = Assert.Single(h.Supervisor.MembershipSnapshot().Members, m => m.NodeId == "a-2");
        Assert.Equal(MemberState.Ready, member.State);
        Assert.Equal(2, member.Instance);
        await watching.CancelAsync();
    }

    [Fact]
    public async Task Two_edits_in_quick_succession_start_the_successor_only_after_the_drained_process_exited()
    {
        var a = StubApp.Role("a", 2, "--ignore-sigterm");
        await using var h = await new Harness(StubApp.Loaded(a), o => o with { GracePeriod = Grace }).StartAsync();
        await h.WaitReadyAsync(60, "a-1", "a-2");
        var oldPid = h.Node("a-2").Pid!.Value;

        h.Source.Set(StubApp.Loaded(a with { Count = 1 }));
        await h.WaitLineAsync("corral", "plan changed: 0 to start, 1 to drain, 0 to restart");
        h.Source.Set(StubApp.Loaded(a with { Count = 2 }));
        await h.WaitLineAsync("corral", "plan changed: 1 to start, 0 to drain, 0 to restart");

        Assert.True(Signals.IsAlive(oldPid), "the old a-2 should still be draining (it ignores SIGTERM)");
        Assert.Contains(h.Supervisor.Nodes(), n => n.NodeId == "a-2" && n.State == NodeState.Draining && n.Pid == oldPid);
        await Eventually.TrueAsync(() => h.Sink.Count("corral", "a-2 started") == 2, TimeSpan.FromSeconds(60), "the successor started\n" + h.Sink.Dump());
        Assert.False(Signals.IsAlive(oldPid), "the successor started while its predecessor still ran\n" + h.Sink.Dump());
        Assert.True(h.Sink.At("corral", "a-2 stopped (exit") < Last(h, "a-2 started"), h.Sink.Dump());
        await h.WaitReadyAsync(60, "a-1", "a-2");
        Assert.Contains(h.Supervisor.MembershipSnapshot().OfRole("test.a"), m => m.NodeId == "a-2" && m.Instance == 2);
    }

    [Fact]
    public async Task Stopping_the_run_waits_for_a_node_that_is_still_draining()
    {
        var a = StubApp.Role("a", 1, "--ignore-sigterm") with { Scalable = true };
        var b = StubApp.Role("b", 1);
        await using var h = await new Harness(StubApp.Loaded(a, b), o => o with { GracePeriod = Grace }).StartAsync();
        using var http = Authorised(h);
        await h.WaitReadyAsync(60, "a-1", "b-1");
        var pid = h.Node("a-1").Pid!.Value;

        await ScaleAsync(http, 0);
        Assert.Equal(NodeState.Draining, h.Node("a-1").State);
        var result = await h.StopAsync();

        Assert.False(Signals.IsAlive(pid), "the run ended while a drained node still ran\n" + h.Sink.Dump());
        Assert.True(h.Sink.Has("corral", "a-1 stopped (exit"), h.Sink.Dump());
        Assert.Equal(NodeState.Stopped, Assert.Single(result.Nodes, n => n.NodeId == "a-1").State);
    }

    private static HttpClient Authorised(Harness h)
    {
        var http = new HttpClient { BaseAddress = h.Supervisor.ControlUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", h.Supervisor.OperatorCredential);
        return http;
    }

    private static async Task ScaleAsync(HttpClient http, int count)
    {
        using var response = await http.PostAsync(ControlRoutes.Scale("test.a"), new StringContent($"{{\"count\":{count}}}", null, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    private static TimeSpan Last(Harness h, string prefix) =>
        h.Sink.Of("corral").Last(l => l.Line.StartsWith(prefix, StringComparison.Ordinal)).At;

    private static List<MembershipEvent> WatchMembership(Harness h, out CancellationTokenSource watching)
    {
        var events = new List<MembershipEvent>();
        var cancel = watching = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var client = h.Client;
        var first = new TaskCompletionSource();
        _ = Task.Run(async () =>
        {
            using (client)
            {
                try
                {
                    await foreach (var e in client.WatchMembershipAsync(cancel.Token))
                    {
                        lock (events)
                        {
                            events.Add(e);
                        }

                        first.TrySetResult();
                    }
                }
                catch (OperationCanceledException)
                {
                    // The test is over.
                }
            }
        });
        first.Task.Wait(TimeSpan.FromSeconds(30));
        return events;
    }

    private static (MembershipChange Change, string NodeId, long Instance)[] Changes(List<MembershipEvent> events)
    {
        lock (events)
        {
            return events.Where(e => e.Member is not null).Select(e => (e.Change, e.Member!.NodeId, e.Member.Instance)).ToArray();
        }
    }
}
