using Corral.Node.Resilience;
using System.Net;
using System.Net.Sockets;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The pure parts: plan diffs, back-off, run folders, the console sink, port checks.</summary>
public sealed class SupervisionUnitTests
{
    private static AppPlan Plan(params RolePlan[] roles) => new() { App = "test", Roles = roles };

    [Fact]
    public void A_diff_starts_new_nodes_drains_the_highest_ordinals_and_restarts_changed_roles()
    {
        var a = StubApp.Role("a", 3);
        var b = StubApp.Role("b", 1);
        var c = StubApp.Role("c", 2);
        var diff = PlanDiff.Compute(Plan(a, b, c), Plan(a with { Count = 1 }, b with { Args = ["--x"], Count = 2 }, StubApp.Role("d", 1)));

        Assert.Equal(["b-2", "d-1"], diff.Start.Select(s => s.NodeId));
        Assert.Equal(["a-2", "a-3", "c-1", "c-2"], diff.Drain);
        Assert.Equal(["b-1"], diff.Restart.Select(r => r.NodeId));
        Assert.Equal(["--x"], diff.Restart[0].Role.Args);
    }

    [Fact]
    public void An_unchanged_plan_or_a_policy_change_is_an_empty_diff()
    {
        var a = StubApp.Role("a", 2);
        Assert.True(PlanDiff.Compute(Plan(a), Plan(a with { Args = ["--x"] } with { Args = [] })).IsEmpty);
        Assert.True(PlanDiff.Compute(Plan(a), Plan(a with { MaxRestarts = 9, DependsOn = ["test.b"] })).IsEmpty);
        Assert.Equal(2, PlanDiff.Compute(Plan(a), Plan(a with { Ports = [new PlannedPort("http", 9000)] })).Restart.Count);
    }

    [Fact]
    public void A_change_of_one_nodes_own_port_restarts_that_node_only()
    {
        var a = StubApp.Role("a", 3) with { PortOverrides = [new NodePortOverride(1, "http", 5001), new NodePortOverride(2, "http", 5002), new NodePortOverride(3, "http", 5003)] };
        var added = a with { Count = 4, PortOverrides = [.. a.PortOverrides, new NodePortOverride(4, "http", 5005)] };
        var diff = PlanDiff.Compute(Plan(a), Plan(added));
        Assert.Equal(["a-4"], diff.Start.Select(s => s.NodeId));
        Assert.Empty(diff.Restart);

        var moved = a with { PortOverrides = [a.PortOverrides[0], new NodePortOverride(2, "http", 5012), a.PortOverrides[2]] };
        Assert.Equal(["a-2"], PlanDiff.Compute(Plan(a), Plan(moved)).Restart.Select(r => r.NodeId));
    }

    [Fact]
    public void Back_off_doubles_from_the_initial_delay_up_to_the_maximum()
    {
        var options = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(200), Max = TimeSpan.FromSeconds(1), Jitter = 0 };
        Assert.Equal([200, 400, 800, 1000, 1000], Enumerable.Range(1, 5).Select(i => Backoff.Delay(options, i, 0.5).TotalMilliseconds));
    }

    [Fact]
    public void Dependency_depth_orders_the_stop()
    {
        var plan = Plan(StubApp.Role("a", 1), StubApp.Role("b", 1) with { DependsOn = ["test.a"] },
            StubApp.Role("c", 1) with { DependsOn = ["test.b", "test.a"] });
        Assert.Equal([0, 1, 2], new[] { "test.a", "test.b", "test.c" }.Select(r => Reconciler.Depth(plan, r)));
    }

    [Fact]
    public void Run_folders_have_sortable_ids_and_resume_only_existing_ones()
    {
        using var data = new TempFolder("corral-runs-");
        var run = RunFolder.Create(data.Path, new DateTimeOffset(2026, 11, 22, 4, 15, 0, TimeSpan.Zero));
        Assert.Matches("^20261122-041500-[0-9a-f]{4}$", run.RunId);
        Assert.True(Directory.Exists(run.LogsPath));
        Assert.Equal(run.Path, RunFolder.Resume(data.Path, run.RunId).Path);

        var missing = Assert.Throws<SupervisorException>(() => RunFolder.Resume(data.Path, "20200101-000000-abcd"));
        Assert.Contains("cannot resume run 20200101-000000-abcd", missing.Message);
        Assert.Throws<SupervisorException>(() => RunFolder.Resume(data.Path, "../etc"));
    }

    [Fact]
    public async Task Resume_reuses_the_run_folder_and_its_id()
    {
        using var data = new TempFolder("corral-resume-");
        var earlier = RunFolder.Create(data.Path, DateTimeOffset.UtcNow);
        await using var h = new Harness(StubApp.Loaded(StubApp.Role("a", 0)), o => o with { DataDirectory = data.Path, ResumeRunId = earlier.RunId });
        await h.Supervisor.StartAsync();
        Assert.Equal(earlier.RunId, h.Supervisor.Run.RunId);
        Assert.Equal(earlier.Path, h.Supervisor.Run.Path);
        Assert.Equal(earlier.RunId, h.Supervisor.Run.ReadSummary()!.RunId);

        await using var missing = new Harness(StubApp.Loaded(StubApp.Role("a", 0)), o => o with { DataDirectory = data.Path, ResumeRunId = "20200101-000000-abcd" });
        var error = await Assert.ThrowsAsync<SupervisorException>(() => missing.Supervisor.StartAsync());
        Assert.Contains("cannot resume run 20200101-000000-abcd", error.Message);
    }

    [Fact]
    public void The_console_sink_prefixes_names_and_colours_only_when_asked()
    {
        var plain = new StringWriter();
        var sink = new ConsoleOutputSink(plain, colour: false);
        sink.SupervisorLine("hello");
        sink.NodeLine("worker-1", "ready");
        Assert.Equal("corral | hello\nworker-1 | ready\n", plain.ToString());

        var coloured = new StringWriter();
        new ConsoleOutputSink(coloured, colour: true).NodeLine("worker-1", "ready");
        Assert.StartsWith("\u001b[", coloured.ToString());
        var again = new StringWriter();
        new ConsoleOutputSink(again, colour: true).NodeLine("worker-1", "ready");
        Assert.Equal(coloured.ToString(), again.ToString());
    }

    [Fact]
    public async Task A_taken_port_is_a_clear_error_naming_the_port_and_the_node()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var controlPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        // Only the taken port is planned: a neighbouring port could be in use by anything on this machine.
        var role = StubApp.Role("a", 1) with { Ports = [new PlannedPort("http", port)] };
        await using var h = new Harness(StubApp.Loaded(role), o => o with { DynamicPorts = false, ControlPort = controlPort });
        var error = await Assert.ThrowsAsync<SupervisorException>(() => h.Supervisor.StartAsync());
        Assert.Contains($"port {port} for node a-1 (http) is not free", error.Message);
    }
}

/// <summary>The file-backed topology source notices an edit once it has settled.</summary>
public sealed class FileTopologySourceTests
{
    [Fact]
    public async Task An_edit_of_the_file_completes_the_wait_and_load_reads_the_file()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "count: 1");
            var source = new FileTopologySource(path, p => StubApp.Loaded(StubApp.Role("a", File.ReadAllText(p).Length)),
                TimeSpan.FromMilliseconds(20));
            var waiting = source.WaitForChangeAsync(CancellationToken.None);
            Assert.False(waiting.IsCompleted);

            File.WriteAllText(path, "count: 22");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
            await waiting.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(9, source.Load().Plan.Roles[0].Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
