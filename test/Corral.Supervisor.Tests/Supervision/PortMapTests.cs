using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>The pure port map, and the supervisor refusing a reload or a scale whose port map does not work.</summary>
public sealed class PortMapTests
{
    private static AppPlan Plan(params RolePlan[] roles) => new() { App = "test", Roles = roles };

    private static RolePlan Workers(int count) => StubApp.Role("worker", count) with
    {
        Ports = [new PlannedPort("http", 6000), new PlannedPort("admin", 6100)],
        ProbePort = "admin",
    };

    [Fact]
    public void Every_node_gets_its_sequence_its_own_override_and_the_offset_derived_ports_included()
    {
        var workers = Workers(3) with { PortOverrides = [new NodePortOverride(2, "http", 7002)] };
        var map = PortMap.Build(Plan(workers), new PortSettings { Offset = 10 });

        Assert.True(map.IsValid, string.Join("; ", map.Errors));
        Assert.Equal(8009, map.ControlPort);
        Assert.Equal([(6010, 6110), (7012, 6111), (6012, 6112)],
            map.Nodes.Select(n => (n.Ports["http"], n.Ports["admin"])));
        Assert.Equal(("worker-2", "test.worker", "http 7012, admin 6111"), map.Rows().ElementAt(1));
        Assert.Equal(7002, workers.PortOf(workers.Ports[0], 2));
    }

    [Fact]
    public void Two_nodes_on_one_port_are_an_error_naming_both_even_through_a_derived_port()
    {
        // Worker 101's main port (6100) is worker 1's admin port.
        var map = PortMap.Build(Plan(Workers(101)), new PortSettings());
        Assert.False(map.IsValid);
        Assert.Contains("node worker-101 (http) and node worker-1 (admin) would both listen on port 6100", map.Errors);

        var withControl = PortMap.Build(Plan(StubApp.Role("a", 1) with { Ports = [new PlannedPort("http", 7999)] }), new PortSettings());
        Assert.Contains("node a-1 (http) and the control API would both listen on port 7999", withControl.Errors);

        var overridden = PortMap.Build(Plan(Workers(2) with { PortOverrides = [new NodePortOverride(2, "http", 6000)] }), new PortSettings());
        Assert.Contains("node worker-2 (http) and node worker-1 (http) would both listen on port 6000", overridden.Errors);
    }

    [Fact]
    public void A_port_pushed_out_of_range_by_the_offset_is_an_error_saying_what_to_change()
    {
        var map = PortMap.Build(Plan(Workers(1)), new PortSettings { Offset = 60000 });
        Assert.Contains("node worker-1 (http) would listen on port 66000, outside 1..65535; change --port-offset or the plan's ports", map.Errors);
    }

    [Fact]
    public void A_probe_override_or_template_naming_a_missing_port_is_an_error_listing_the_valid_ones()
    {
        var role = Workers(1) with
        {
            ProbePort = "metrics",
            PortOverrides = [new NodePortOverride(1, "grpc", 9000)],
            Program = new ProgramSpec { Executable = "x", Arguments = ["--port", "{port:client}", "--dir", "{data}", "{nonsense}"] },
        };
        var errors = PortMap.Build(Plan(role), new PortSettings()).Errors;

        Assert.Contains("role test.worker probes port 'metrics', which it does not have (its ports: http, admin)", errors);
        Assert.Contains("role test.worker gives node 1 its own port 'grpc', which the role does not have (its ports: http, admin)", errors);
        Assert.Contains(errors, e => e.Contains("'{port:client}' in '{port:client}' is not a placeholder; valid: {data}, {node}, {bind}, {port:http}, {port:admin}"));
        Assert.Contains(errors, e => e.Contains("'{nonsense}'"));
        Assert.DoesNotContain(errors, e => e.Contains("'{data}'"));
    }

    [Fact]
    public void Dynamic_ports_are_zero_and_never_conflict()
    {
        var map = PortMap.Build(Plan(Workers(101)), new PortSettings { Dynamic = true });
        Assert.True(map.IsValid);
        Assert.Equal(0, map.ControlPort);
        Assert.All(map.Nodes, n => Assert.All(n.Ports.Values, p => Assert.Equal(0, p)));
        Assert.Equal("http dynamic, admin dynamic", map.Rows().First().Ports);
    }

    [Fact]
    public async Task A_scale_or_reload_whose_ports_collide_is_refused_and_the_running_plan_stays()
    {
        var (http, admin) = (LoopbackPort.Unused(), LoopbackPort.Unused());

        // A second worker's http port would be past 65535 (free ports come from the ephemeral range, above 32767).
        var workers = StubApp.Role("worker", 1) with
        {
            Ports = [new PlannedPort("http", http, 40000), new PlannedPort("admin", admin)],
            Scalable = true,
        };
        await using var h = await new Harness(StubApp.Loaded(workers), o => o with { DynamicPorts = false, ControlPort = LoopbackPort.Unused() }).StartAsync();
        await h.WaitReadyAsync(60, "worker-1");
        var pid = h.Node("worker-1").Pid;

        // A reload whose second worker takes worker 1's admin port.
        h.Source.Set(StubApp.Loaded(workers with { Count = 2, PortOverrides = [new NodePortOverride(2, "http", admin)] }));
        await h.WaitLineAsync("corral", "plan rejected, the running plan stays:");
        Assert.Contains($"node worker-2 (http) and node worker-1 (admin) would both listen on port {admin}", h.Sink.Dump());

        using var http1 = new HttpClient { BaseAddress = h.Supervisor.ControlUrl };
        http1.DefaultRequestHeaders.Authorization = new("Bearer", h.Supervisor.OperatorCredential);
        using (var response = await http1.PostAsync(ControlRoutes.Scale("test.worker"), new StringContent("{\"count\":2}", null, "application/json")))
        {
            Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("outside 1..65535", await response.Content.ReadAsStringAsync());
        }

        await h.WaitLineAsync("corral", $"node worker-2 (http) would listen on port {http + 40000}, outside 1..65535");

        Assert.Equal(["worker-1"], h.Supervisor.Nodes().Select(n => n.NodeId));
        Assert.Equal(pid, h.Node("worker-1").Pid);
        Assert.Equal(NodeState.Ready, h.Node("worker-1").State);
        Assert.DoesNotContain("plan changed", h.Sink.Dump());
    }

}
