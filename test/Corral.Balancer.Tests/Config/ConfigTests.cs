using Corral.Balancer.Config;
using Corral.Node.Apps;
using Corral.Node.Planning;
using Corral.Node.Topology;

namespace Corral.Balancer.Tests.Config;

public sealed class ConfigTests
{
    private static (LoadedApp App, IReadOnlyList<TopologyError> Warnings) Load(string path) =>
        new AppCatalog([new BalancerModule()]).Load(TopologyLoader.Load(path));

    private static TopologyException Invalid(string yaml)
    {
        using var folder = new TempFolder();
        var path = folder.Write("balancer.yaml", yaml);
        return Assert.Throws<TopologyException>(() => Load(path));
    }

    [Fact]
    public void The_example_loads_into_a_plan_with_two_roles()
    {
        var (app, warnings) = Load(Repo.File("examples", "balancer.yaml"));
        Assert.Empty(warnings);
        var config = BalancerConfig.FromJson(app.Config);
        Assert.Equal(3, config.Workers);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.AvgDelay);
        Assert.Equal(BalancingPolicyKind.RoundRobin, config.Policy);

        var workers = app.Plan.Find(BalancerPlan.WorkerRole)!;
        Assert.Equal(["worker-1", "worker-2", "worker-3"], workers.NodeIds());
        Assert.Equal("admin", workers.ProbePort);
        Assert.True(workers.Scalable);
        Assert.Equal(6002, workers.PortOf(workers.Ports.Single(p => p.Name == "http"), 3));
        Assert.Equal(6102, workers.PortOf(workers.Ports.Single(p => p.Name == "admin"), 3));

        var balancers = app.Plan.Find(BalancerPlan.BalancerRole)!;
        Assert.Equal(["lb-1", "lb-2"], balancers.NodeIds());
        Assert.Equal(5051, balancers.PortOf(balancers.Ports[0], 2));
        Assert.Equal([BalancerPlan.WorkerRole], balancers.DependsOn);
    }

    [Fact]
    public void The_original_config_yaml_loads_unchanged()
    {
        var path = Repo.File("examples", "originals", "balancer-002-config.yaml");
        var (app, warnings) = Load(path);
        Assert.Same(typeof(BalancerModule), app.Module.GetType());
        Assert.Empty(warnings);
        var config = BalancerConfig.FromJson(app.Config);
        Assert.Equal(3, config.Workers);
        Assert.Equal(2, config.Balancers);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.AvgDelay);
        Assert.Equal(12, config.FailurePercent);
        Assert.Equal(5050, config.BalancerPort);
        Assert.Equal(6000, config.WorkerPort);
        Assert.Equal(6100, config.WorkerAdminPort);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(path)!, "worker-stats.db"), config.StatsPath);
    }

    [Fact]
    public void An_originals_unknown_key_is_a_warning_not_an_error()
    {
        using var folder = new TempFolder();
        var path = folder.Write("config.yaml", "worker: 2\npool: 1\ndocker-host: unix:///var/run/docker.sock\n");
        var (app, warnings) = Load(path);
        Assert.Equal(2, BalancerConfig.FromJson(app.Config).Workers);
        Assert.Contains(warnings, w => w.Message.Contains("docker-host") && w.Position.Line == 3);
    }

    [Fact]
    public void Errors_name_file_line_column_and_what_is_valid()
    {
        var error = Invalid("""
            app: balancer
            workers: 0
            avg-delay: 500
            failure: 120
            policy: random
            colour: blue
            health-check:
              path: healthz
              intervall: 1s
            """);
        var messages = error.Errors.Select(e => e.ToString()).ToArray();
        Assert.Contains(messages, m => m.Contains("balancer.yaml:2:10") && m.Contains("workers must be a whole number from 1 to 256"));
        Assert.Contains(messages, m => m.Contains(":3:") && m.Contains("avg-delay must be a duration"));
        Assert.Contains(messages, m => m.Contains(":4:") && m.Contains("failure must be a number between 0 and 100"));
        Assert.Contains(messages, m => m.Contains(":5:") && m.Contains("round-robin, power-of-two, least-requests"));
        Assert.Contains(messages, m => m.Contains(":6:") && m.Contains("unknown key 'colour'"));
        Assert.Contains(messages, m => m.Contains(":8:") && m.Contains("must start with '/'"));
        Assert.Contains(messages, m => m.Contains(":9:") && m.Contains("unknown key 'health-check.intervall'"));
    }

    [Fact]
    public void The_run_seed_is_accepted_and_must_be_a_whole_number()
    {
        var e = Invalid("app: balancer\nseed: soon\n");

        Assert.Contains("seed must be a whole number, got 'soon'", e.Message);
        Assert.DoesNotContain("unknown key", e.Message);
    }

    [Fact]
    public void Retry_and_passive_settings_are_read()
    {
        using var folder = new TempFolder();
        var path = folder.Write("b.yaml", """
            app: balancer
            policy: least-requests
            retries: {attempts: 3, on-5xx: true, methods: [get, head]}
            passive: {consecutive-failures: 2, 5xx-counts: true, base-ejection: 1s, max-ejection: 10s}
            timeouts: {connect: 250ms, attempt: 2s, request: 5s}
            restarts: {worker: 9}
            """);
        var (app, _) = Load(path);
        var config = BalancerConfig.FromJson(app.Config);
        Assert.Equal(BalancingPolicyKind.LeastRequests, config.Policy);
        Assert.Equal(3, config.Retries.Attempts);
        Assert.True(config.Retries.On5xx);
        Assert.Equal(["GET", "HEAD"], config.Retries.Methods);
        Assert.True(config.Passive.Count5xx);
        Assert.Equal(TimeSpan.FromSeconds(10), config.Passive.MaxEjection);
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromSeconds(2), config.Timeouts.Attempt);
        Assert.Equal(9, app.Plan.Find(BalancerPlan.WorkerRole)!.MaxRestarts);
    }

    [Fact]
    public void Config_round_trips_through_JSON()
    {
        var config = new BalancerConfig { Policy = BalancingPolicyKind.PowerOfTwo, AvgDelay = TimeSpan.FromMilliseconds(7) };
        var back = BalancerConfig.FromJson(config.ToJson());
        Assert.Equal(BalancingPolicyKind.PowerOfTwo, back.Policy);
        Assert.Equal(config.AvgDelay, back.AvgDelay);
        Assert.Equal(config.Retries.Methods, back.Retries.Methods);
    }
}
