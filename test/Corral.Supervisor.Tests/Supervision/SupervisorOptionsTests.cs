using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>Options are checked in one place, <see cref="SupervisorOptions.Validate"/>, with one range for each.</summary>
public sealed class SupervisorOptionsTests
{
    private static readonly SupervisorOptions Valid = new() { DataDirectory = "/tmp/corral-options" };

    [Fact]
    public void The_default_options_are_valid()
    {
        Assert.Empty(Valid.Validate());
    }

    [Fact]
    public void A_port_offset_at_either_end_of_its_range_is_accepted()
    {
        Assert.Empty((Valid with { PortOffset = -1000 }).Validate());
        Assert.Empty((Valid with { PortOffset = 20000 }).Validate());
        Assert.Equal((-1000, 20000), (SupervisorOptions.MinPortOffset, SupervisorOptions.MaxPortOffset));
    }

    [Fact]
    public void A_port_offset_one_past_either_end_is_refused_naming_the_range()
    {
        foreach (var offset in new[] { -1001, 20001 })
        {
            var problem = Assert.Single((Valid with { PortOffset = offset, DashboardPort = 8000 + offset }).Validate());
            Assert.Equal($"--port-offset must be between -1000 and 20000 so every default port stays between 1024 and 32767, not {offset}", problem);
        }
    }

    [Fact]
    public void The_engine_and_listen_options_are_checked_with_what_is_valid()
    {
        Assert.Empty((Valid with { Engine = SupervisorEngine.External, ListenAddress = "0.0.0.0", HostNames = ["corral-supervisor"] }).Validate());
        Assert.Empty((Valid with { Engine = SupervisorEngine.Docker, DockerImage = "corral:1.2.3" }).Validate());
        Assert.Equal("--image takes an image name and tag (corral:0.1.0), not 'corral 1'",
            Assert.Single((Valid with { Engine = SupervisorEngine.Docker, DockerImage = "corral 1" }).Validate()));
        Assert.Equal("--listen takes an IP address to listen on (127.0.0.1, 0.0.0.0, ::), not 'corral-supervisor'",
            Assert.Single((Valid with { ListenAddress = "corral-supervisor" }).Validate()));
        Assert.Equal("--host-name takes a host name or address (corral-supervisor), not 'a/b'",
            Assert.Single((Valid with { HostNames = ["a/b"] }).Validate()));
        Assert.Equal("--signing-key-file goes with --engine external: the other engines issue their nodes' credentials themselves",
            Assert.Single((Valid with { SigningKey = new("20261205-200000-ab12", "AAAA") }).Validate()));
    }

    [Fact]
    public void Dynamic_ports_and_an_offset_exclude_each_other()
    {
        Assert.Contains("--port-offset and --ports dynamic exclude each other: dynamic ports have nothing to shift",
            (Valid with { DynamicPorts = true, PortOffset = 5 }).Validate());
        Assert.Empty((Valid with { DynamicPorts = true, DashboardPort = 0 }).Validate());
    }

    [Fact]
    public void A_dashboard_port_must_be_below_32768()
    {
        Assert.Empty((Valid with { DashboardPort = 32767 }).Validate());
        Assert.Equal(["--dashboard must be a port from 1 to 32767 (0 picks a free one), not 32768"],
            (Valid with { DashboardPort = 32768 }).Validate());
        Assert.Single((Valid with { DashboardPort = -1 }).Validate());
    }

    [Fact]
    public void Every_problem_is_listed_not_only_the_first()
    {
        var problems = (Valid with { DataDirectory = " ", GracePeriod = TimeSpan.Zero, LivenessFailures = 0, BindAddress = "localhost" }).Validate();

        Assert.Equal(["the data folder is empty", "the grace period must be positive", "liveness failures must be at least 1",
            "'localhost' is not an IP address to bind"], problems);
    }

    [Fact]
    public async Task The_supervisor_refuses_to_start_with_invalid_options_and_starts_nothing()
    {
        await using var h = new Harness(StubApp.Loaded(StubApp.Role("a", 1)), o => o with { DynamicPorts = false, PortOffset = 20001 });

        var refused = await Assert.ThrowsAsync<SupervisorException>(() => h.Supervisor.StartAsync());

        Assert.StartsWith("invalid supervisor options: --port-offset must be between -1000 and 20000", refused.Message);
        Assert.False(Directory.Exists(Path.Combine(h.DataDirectory, "runs")), "refused options must not create a run");
    }
}
