using Corral.Node.Planning;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>A node's ports across its processes: fixed ones as planned, dynamic ones learnt, kept or forgotten.</summary>
public sealed class NodePortLedgerTests
{
    private static readonly RolePlan Worker = StubApp.Role("worker", 3) with
    {
        Ports = [new PlannedPort("http", 6000), new PlannedPort("redis", 6100) { Scheme = "redis" }],
    };

    private static NodePortLedger Ledger(bool dynamic, int ordinal = 2)
    {
        var ledger = new NodePortLedger(ordinal, new PortSettings { Dynamic = dynamic, Offset = dynamic ? 0 : 5 }, "127.0.0.1");
        ledger.Assign(Worker);
        return ledger;
    }

    [Fact]
    public void Fixed_ports_come_from_the_port_map_and_outlast_a_process_that_never_reported()
    {
        var ledger = Ledger(dynamic: false);
        ledger.ProcessStarted();
        ledger.ProcessExited();

        Assert.Equal(new Dictionary<string, int> { ["http"] = 6006, ["redis"] = 6106 }, ledger.Snapshot());
        Assert.Equal(6006, ledger.PortOf("http"));
        Assert.Equal(0, ledger.PortOf(null));
    }

    [Fact]
    public void A_dynamic_port_is_unknown_until_reported_then_kept_across_a_restart()
    {
        var ledger = Ledger(dynamic: true);
        Assert.Equal(0, ledger.PortOf("http"));

        ledger.ProcessStarted();
        ledger.Report(new Dictionary<string, int> { ["http"] = 41000 });
        ledger.ProcessExited();
        ledger.ProcessStarted();

        Assert.Equal(41000, ledger.PortOf("http"));
        Assert.False(ledger.Confirmed);
    }

    [Fact]
    public void A_process_that_exits_before_reporting_gives_up_its_reused_dynamic_ports()
    {
        var ledger = Ledger(dynamic: true);
        ledger.ProcessStarted();
        ledger.Report(new Dictionary<string, int> { ["http"] = 41000, ["redis"] = 41001 });
        ledger.ProcessExited();

        ledger.ProcessStarted();
        ledger.ProcessExited();

        Assert.Equal(new Dictionary<string, int> { ["http"] = 0, ["redis"] = 0 }, ledger.Snapshot());
    }

    [Fact]
    public void A_reassigned_role_keeps_dynamic_ports_by_name_and_drops_the_ones_it_no_longer_has()
    {
        var ledger = Ledger(dynamic: true);
        ledger.Report(new Dictionary<string, int> { ["http"] = 41000, ["redis"] = 41001 });

        ledger.Assign(Worker with { Ports = [new PlannedPort("http", 6000), new PlannedPort("admin", 6200)] });

        Assert.Equal(new Dictionary<string, int> { ["http"] = 41000, ["admin"] = 0 }, ledger.Snapshot());
    }

    [Fact]
    public void A_program_gets_distinct_free_ports_picked_and_keeps_them_once_ready_on_them()
    {
        var ledger = Ledger(dynamic: true);
        ledger.ProcessStarted();

        var ports = ledger.ForProgram(out var picked);
        Assert.True(picked);
        Assert.All(ports.Values, port => Assert.InRange(port, 20000, 32767));
        Assert.NotEqual(ports["http"], ports["redis"]);

        ledger.ProgramReady();
        ledger.ProcessExited();
        ledger.ProcessStarted();
        Assert.Equal(ports, ledger.ForProgram(out var pickedAgain));
        Assert.False(pickedAgain);
    }

    [Fact]
    public void Urls_carry_the_planned_scheme_and_leave_out_unknown_ports()
    {
        var ledger = Ledger(dynamic: true);
        Assert.Empty(ledger.Urls(Worker));

        ledger.Report(new Dictionary<string, int> { ["redis"] = 41001 });

        Assert.Equal(new Dictionary<string, string> { ["redis"] = "redis://127.0.0.1:41001" }, ledger.Urls(Worker));
        Assert.Equal("http://127.0.0.1:6006", Ledger(dynamic: false).Urls(Worker)["http"]);
    }
}
