using System.Net;
using System.Net.Sockets;
using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>Before a run starts, every fixed port it will listen on is checked free, naming its owner when it is not.</summary>
public sealed class PortPreCheckTests
{
    private static AppPlan Plan(params RolePlan[] roles) => new() { App = "test", Roles = roles };

    [Fact]
    public void The_control_API_the_dashboard_and_every_nodes_fixed_ports_are_checked()
    {
        var workers = StubApp.Role("worker", 2) with { Ports = [new PlannedPort("http", 6000), new PlannedPort("admin", 6100)] };
        var map = PortMap.Build(Plan(workers), new PortSettings { Offset = 10 });

        Assert.Equal([(8009, "the control API"), (8010, "the dashboard"), (6010, "node worker-1 (http)"), (6110, "node worker-1 (admin)"),
            (6011, "node worker-2 (http)"), (6111, "node worker-2 (admin)")], PortPreCheck.Owners(map, 8010));
    }

    [Fact]
    public void Dynamic_ports_and_no_dashboard_leave_nothing_to_check()
    {
        var map = PortMap.Build(Plan(StubApp.Role("a", 3)), new PortSettings { Dynamic = true });

        Assert.Empty(PortPreCheck.Owners(map, 0));
        Assert.Empty(PortPreCheck.Owners(map, null));
        Assert.Null(PortPreCheck.FirstTaken(map, 0, "127.0.0.1", "127.0.0.1"));
    }

    [Fact]
    public void A_taken_port_is_named_with_its_owner_and_the_remedy()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var taken = ((IPEndPoint)squatter.LocalEndPoint!).Port;
        var map = PortMap.Build(Plan(StubApp.Role("a", 1) with { Ports = [new PlannedPort("http", taken)] }), new PortSettings { ControlPort = null });

        var problem = PortPreCheck.FirstTaken(map, null, "127.0.0.1", "127.0.0.1");

        Assert.Equal($"port {taken} for node a-1 (http) is not free on 127.0.0.1 (AddressAlreadyInUse); stop what uses it, " +
                     "shift every port with --port-offset N, or use --ports dynamic", problem);
        // An external engine runs the nodes elsewhere: their ports are not this machine's to check.
        Assert.Null(PortPreCheck.FirstTaken(map, null, "127.0.0.1", nodeAddress: null));
    }

    [Fact]
    public void Free_ports_pass()
    {
        int free;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            free = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var map = PortMap.Build(Plan(StubApp.Role("a", 1) with { Ports = [new PlannedPort("http", free)] }), new PortSettings { ControlPort = null });

        Assert.Null(PortPreCheck.FirstTaken(map, null, "127.0.0.1", "127.0.0.1"));
    }
}
