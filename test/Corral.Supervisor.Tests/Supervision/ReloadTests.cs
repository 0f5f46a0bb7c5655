using Corral.Node.Control;
using Corral.Supervisor.Supervision;
using Corral.Node.Topology;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>Topology reloads and scaling touch only the difference.</summary>
public sealed class ReloadTests
{
    [Fact]
    public async Task A_reload_applies_only_the_difference_and_publishes_the_new_config()
    {
        var a = StubApp.Role("a", 2);
        var b = StubApp.Role("b", 1);
        await using var h = await new Harness(StubApp.Loaded("{\"v\":1}", a, b)).StartAsync();
        using var client = h.Client;
        await h.WaitReadyAsync(60, "a-1", "a-2", "b-1");
        var before = h.Supervisor.Nodes().ToDictionary(n => n.NodeId, n => n.Pid);
        var versions = new List<long>();
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var configFeed = Task.Run(async () =>
        {
            await foreach (var document in client.WatchConfigAsync(watching.Token))
            {
                lock (versions)
                {
                    versions.Add(document.Version);
                }

                if (document.Version == 2)
                {
                    Assert.Equal(2, document.Config.GetProperty("v").GetInt32());
                    return;
                }
            }
        });
        await Eventually.TrueAsync(() => { lock (versions) { return versions.Count == 1; } }, TimeSpan.FromSeconds(30), "the config feed's first document");

        // a grows by one; b's arguments change.
        h.Source.Set(StubApp.Loaded("{\"v\":2}", a with { Count = 3 }, b with { Args = ["--ready-delay", "10"] }));
        await h.WaitLineAsync("corral", "plan changed: 1 to start, 0 to drain, 1 to restart");
        await Eventually.TrueAsync(() => h.Sink.Count("corral", "b-1 started") == 2, TimeSpan.FromSeconds(60), "b-1 restarted\n" + h.Sink.Dump());
        await h.WaitReadyAsync(60, "a-1", "a-2", "a-3", "b-1");
        var after = h.Supervisor.Nodes().ToDictionary(n => n.NodeId, n => n.Pid);
        Assert.Equal(before["a-1"], after["a-1"]);
        Assert.Equal(before["a-2"], after["a-2"]);
        Assert.NotEqual(before["b-1"], after["b-1"]);
        Assert.Equal(0, h.Supervisor.Nodes().Single(n => n.NodeId == "b-1").Restarts);
        Assert.Equal(2, (await client.GetConfigAsync()).Version);
        await configFeed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([1L, 2L], versions);

        // a shrinks to one: the highest ordinals drain (their processes exit 0), a-1 is untouched.
        h.Source.Set(StubApp.Loaded("{\"v\":3}", a with { Count = 1 }, b with { Args = ["--ready-delay", "10"] }));
        await WaitDrainedAsync(h, ("a-2", after["a-2"]!.Value), ("a-3", after["a-3"]!.Value));
        Assert.Equal(2, h.Supervisor.Nodes().Count);
        Assert.Equal(before["a-1"], h.Node("a-1").Pid);
        Assert.Equal(after["b-1"], h.Node("b-1").Pid);
        Assert.DoesNotContain(h.Supervisor.MembershipSnapshot().Members, m => m.NodeId is "a-2" or "a-3");
        Assert.Equal(3, (await client.GetConfigAsync()).Version);
    }

    [Fact]
    public async Task An_invalid_edit_is_reported_and_the_running_plan_stays()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("a", 1))).StartAsync();
        using var client = h.Client;
        await h.WaitReadyAsync(60, "a-1");
        var pid = h.Node("a-1").Pid;

        h.Source.Set(() => throw new TopologyException(new SourcePosition("topology.yaml", 3, 9), "count must be at least 1, got -2"));
        await h.WaitLineAsync("corral", "reload rejected: topology.yaml:3:9: count must be at least 1, got -2");

        Assert.Equal(pid, h.Node("a-1").Pid);
        Assert.Equal(NodeState.Ready, h.Node("a-1").State);
        Assert.Equal(1, (await client.GetConfigAsync()).Version);
    }

    [Fact]
    public async Task A_scalable_role_scales_up_and_down_through_the_control_api()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("a", 1) with { Scalable = true })).StartAsync();
        using var http = new HttpClient { BaseAddress = h.Supervisor.ControlUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", h.Supervisor.OperatorCredential);
        await h.WaitReadyAsync(60, "a-1");
        var pid = h.Node("a-1").Pid;

        using (var response = await http.PostAsync(ControlRoutes.Scale("test.a"), new StringContent("{\"count\":2}", null, "application/json")))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        await h.WaitReadyAsync(60, "a-1", "a-2");
        var drained = h.Node("a-2").Pid!.Value;
        using (var response = await http.PostAsync(ControlRoutes.Scale("test.a"), new StringContent("{\"count\":1}", null, "application/json")))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        await WaitDrainedAsync(h, ("a-2", drained));
        Assert.Equal(pid, h.Node("a-1").Pid);
        Assert.Single(h.Supervisor.Nodes());
    }

    /// <summary>
    /// Drained means the process is gone (no /proc entry, or a zombie) and the supervisor said so with exit 0, not
    /// merely that the node left the table.
    /// </summary>
    private static async Task WaitDrainedAsync(Harness h, params (string NodeId, int Pid)[] nodes)
    {
        await Eventually.TrueAsync(() => nodes.All(n => !Signals.IsAlive(n.Pid) && h.Sink.Has("corral", $"{n.NodeId} stopped (exit 0)")),
            TimeSpan.FromSeconds(30), () => $"{string.Join(", ", nodes.Select(n => $"{n.NodeId} (pid {n.Pid})"))} drained\n{h.Sink.Dump()}");
    }
}
