using System.Globalization;
using System.Text.RegularExpressions;
using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>Real TestNode processes: readiness gating, restarts with back-off and the cap, liveness, the membership feed.</summary>
public sealed partial class SupervisorLifecycleTests
{
    [GeneratedRegex(@"restart \d+ of \d+ in (?<value>\d+(\.\d+)?)(?<unit>ms|s)\b")]
    private static partial Regex PlannedRestart();

    [Fact]
    public async Task A_dependant_starts_only_after_its_dependency_is_ready()
    {
        var server = StubApp.Role("server", 1, "--ready-delay", "1500") with { Singleton = true };
        var worker = StubApp.Role("worker", 2) with { DependsOn = ["test.server"] };
        await using var h = await new Harness(StubApp.Loaded(server, worker)).StartAsync();
        using var client = h.Client;
        var joined = new List<string>();
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var e in client.WatchMembershipAsync(watching.Token))
        {
            if (e.Change == MembershipChange.Joined)
            {
                joined.Add(e.Member!.NodeId);
            }

            if (joined.Count == 3)
            {
                break;
            }
        }

        Assert.Equal("server", joined[0]);
        var serverReady = h.Sink.At("corral", "server ready");
        Assert.True(h.Sink.At("corral", "worker-1 started") > serverReady, h.Sink.Dump());
        Assert.True(h.Sink.At("corral", "worker-2 started") > serverReady, h.Sink.Dump());
        Assert.True(h.Sink.At("server", "ready") < h.Sink.At("corral", "worker-1 started"), h.Sink.Dump());
    }

    [Fact]
    public async Task No_more_nodes_start_at_once_than_the_start_window_allows_and_all_become_ready()
    {
        var worker = StubApp.Role("worker", 5, "--ready-delay", "400");
        await using var h = await new Harness(StubApp.Loaded(worker), o => o with { MaxConcurrentStarts = 2 }).StartAsync();

        await h.WaitReadyAsync(60, "worker-1", "worker-2", "worker-3", "worker-4", "worker-5");

        // Read in the order the supervisor said it: a node holds its slot until its "ready" line is out.
        var starting = 0;
        var most = 0;
        foreach (var (_, line) in h.Sink.Of("corral"))
        {
            if (line.Contains(" started (pid ")) most = Math.Max(most, ++starting);
            else if (line.EndsWith(" ready")) starting--;
        }

        Assert.True(most <= 2, $"{most} nodes were starting at once with a window of 2:\n{h.Sink.Dump()}");
        Assert.Equal(2, most);
    }

    [Fact]
    public async Task A_crashing_node_restarts_with_growing_back_off_then_the_cap_fails_the_run_naming_it()
    {
        var worker = StubApp.Role("worker", 1, "--crash-after", "200", "--exit-code", "3") with
        {
            MaxRestarts = 3,
            InitialBackoff = TimeSpan.FromMilliseconds(300),
            MaxBackoff = TimeSpan.FromSeconds(5),
        };
        await using var h = await new Harness(StubApp.Loaded(worker)).StartAsync();
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(RunEnd.Failed, result.End);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("worker-1 exited with code 3 and has used all 3 restarts", result.Error);
        Assert.Contains("crashing with exit code 3", result.Error);

        // The supervisor logs each planned back-off: 300 ms doubling, each shortened by at most 20% of seeded jitter. The
        // planned values are what is compared (wall-clock gaps compared with each other flake on a loaded machine); a
        // gap only has to be at least its own plan, which load can only lengthen.
        var lines = h.Sink.Of("corral").ToArray();
        var planned = new List<TimeSpan>();
        var gaps = new List<TimeSpan>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (PlannedRestart().Match(lines[i].Line) is { Success: true } restart && lines[i].Line.StartsWith("worker-1 exited", StringComparison.Ordinal))
            {
                var value = double.Parse(restart.Groups["value"].Value, CultureInfo.InvariantCulture);
                planned.Add(restart.Groups["unit"].Value == "s" ? TimeSpan.FromSeconds(value) : TimeSpan.FromMilliseconds(value));
                var next = lines.Skip(i + 1).First(l => l.Line.StartsWith("worker-1 started", StringComparison.Ordinal));
                gaps.Add(next.At - lines[i].At);
            }
        }

        Assert.Equal(3, planned.Count);
        for (var i = 0; i < planned.Count; i++)
        {
            var full = 300 * Math.Pow(2, i);
            Assert.InRange(planned[i].TotalMilliseconds, full * 0.8, full);
            Assert.True(gaps[i] >= planned[i] - TimeSpan.FromMilliseconds(20), $"restart {i + 1} came {gaps[i]} after the exit, before its planned {planned[i]}");
        }

        Assert.True(planned[1] > planned[0] && planned[2] > planned[1], string.Join(", ", planned));
        Assert.Equal(3, result.Nodes.Single().Restarts);
        Assert.Equal(NodeState.Failed, result.Nodes.Single().State);
        Assert.Contains("\"exitCode\": 1", File.ReadAllText(result.Run.SummaryPath));
    }

    [Fact]
    public async Task A_node_that_stops_answering_healthz_is_killed_and_restarted()
    {
        var worker = StubApp.Role("worker", 1, "--hang-after", "300");
        await using var h = await new Harness(StubApp.Loaded(worker), o => o with
        {
            LivenessInterval = TimeSpan.FromMilliseconds(300),
            LivenessTimeout = TimeSpan.FromMilliseconds(300),
        }).StartAsync();
        await h.WaitLineAsync("corral", "worker-1 failed 3 liveness probes in a row; killing it", 60);
        await Eventually.TrueAsync(() => h.Sink.Count("corral", "worker-1 started") == 2, TimeSpan.FromSeconds(30), "worker-1 started again");
        Assert.Equal(1, h.Node("worker-1").Restarts);
        Assert.Contains("worker-1 failed 3 liveness probes; restart 1 of 5", h.Sink.Dump());
    }

    [Fact]
    public async Task A_node_that_never_gets_ready_is_killed_and_counts_as_a_failure()
    {
        var worker = StubApp.Role("worker", 1, "--ready-delay", "600000") with { MaxRestarts = 0 };
        await using var h = await new Harness(StubApp.Loaded(worker), o => o with { ReadyTimeout = TimeSpan.FromSeconds(1.5) }).StartAsync();
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(RunEnd.Failed, result.End);
        Assert.Contains("worker-1 was not ready within 1.5s and has used all 0 restarts", result.Error);
    }

    [Fact]
    public async Task The_membership_feed_shows_start_crash_and_restart()
    {
        var worker = StubApp.Role("worker", 1);
        await using var h = await new Harness(StubApp.Loaded(worker)).StartAsync();
        using var client = h.Client;
        var events = new List<MembershipEvent>();
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await foreach (var e in client.WatchMembershipAsync(watching.Token))
        {
            events.Add(e);
            if (events.Count(x => x.Change == MembershipChange.Joined) == 1 && e.Change == MembershipChange.Joined)
            {
                // A crash: the node's process is killed from outside.
                Signals.Send(h.Node("worker-1").Pid!.Value, Signals.Kill);
            }

            if (events.Count(x => x.Change == MembershipChange.Joined) == 2)
            {
                break;
            }
        }

        Assert.Equal(MembershipChange.Snapshot, events[0].Change);
        var changes = events.Skip(1).Select(e => (e.Change, e.Member!.NodeId)).ToArray();
        Assert.Equal([(MembershipChange.Joined, "worker-1"), (MembershipChange.Left, "worker-1"), (MembershipChange.Joined, "worker-1")], changes);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.Second.Snapshot.Version > p.First.Snapshot.Version));
        Assert.Single(events[^1].Snapshot.Members);
        Assert.Equal(1, h.Node("worker-1").Restarts);
        Assert.StartsWith("http://127.0.0.1:", events[^1].Member!.Url());
        Assert.Equal(events[1].Member!.Url(), events[^1].Member!.Url());
    }

    [Fact]
    public async Task A_restart_through_the_control_api_replaces_the_process_without_counting_against_the_cap()
    {
        await using var h = await new Harness(StubApp.Loaded(StubApp.Role("worker", 1))).StartAsync();
        await h.WaitReadyAsync(60, "worker-1");
        var pid = h.Node("worker-1").Pid;
        using var http = new HttpClient { BaseAddress = h.Supervisor.ControlUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", h.Supervisor.OperatorCredential);
        using (var response = await http.PostAsync(ControlRoutes.Restart("worker-1"), null))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        await Eventually.TrueAsync(() => h.Node("worker-1") is { State: NodeState.Ready, Pid: { } now } && now != pid, TimeSpan.FromSeconds(60), "worker-1 ready again\n" + h.Sink.Dump());
        Assert.Equal(0, h.Node("worker-1").Restarts);
        Assert.True(h.Sink.Has("corral", "worker-1 restarting on request"), h.Sink.Dump());
    }

    [Fact]
    public async Task Fixed_ports_are_planned_ports_plus_the_offset()
    {
        var (nodePort, controlPort) = (LoopbackPort.Unused(), LoopbackPort.Unused());
        var role = StubApp.Role("worker", 1) with { Ports = [new PlannedPort("http", nodePort - 7)] };
        await using var h = await new Harness(StubApp.Loaded(role), o => o with
        {
            DynamicPorts = false,
            PortOffset = 7,
            ControlPort = controlPort - 7,
        }).StartAsync();
        await h.WaitReadyAsync(60, "worker-1");
        Assert.Equal($"http://127.0.0.1:{nodePort}", h.Node("worker-1").Urls["http"]);
        Assert.Equal(controlPort, h.Supervisor.ControlUrl.Port);
        Assert.Matches($@"corral \| worker-1 +test\.worker +http {nodePort}\n", h.Sink.Dump());
        await h.StopAsync();
        Assert.Contains("worker-1 ready", File.ReadAllText(h.Supervisor.Run.LogOf("corral")));
    }


    [Fact]
    public async Task A_node_that_exits_zero_drained_and_is_not_restarted_and_the_run_ends()
    {
        var worker = StubApp.Role("worker", 1, "--exit-after", "500");
        await using var h = await new Harness(StubApp.Loaded(worker)).StartAsync();
        var result = await h.Result.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(RunEnd.AllExited, result.End);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(NodeState.Exited, result.Nodes.Single().State);
        Assert.Equal(0, result.Nodes.Single().Restarts);
    }
}
