using Corral.Balancer.Config;
using Corral.Balancer.Proxy;
using Corral.Node.Planning;

namespace Corral.Balancer;

/// <summary>Turns a balancer config into the supervisor's plan: N workers, then M balancers once the workers are ready.</summary>
public static class BalancerPlan
{
    public const string App = "balancer";
    public const string WorkerRole = "balancer.worker";
    public const string BalancerRole = "balancer.lb";

    public static AppPlan Create(BalancerConfig config) => new()
    {
        App = App,
        Roles =
        [
            new RolePlan
            {
                Role = WorkerRole,
                NodePrefix = "worker",
                Count = config.Workers,
                Ports = [new PlannedPort("http", config.WorkerPort), new PlannedPort("admin", config.WorkerAdminPort)],
                // Probes go to the admin listener, so an injected outage on the service port is not "healed" by a restart.
                ProbePort = "admin",
                Scalable = true,
                // The original's stats-dir may lie outside the data folder; a container must see it to keep the stats.
                Folders = config.StatsPath is { } stats ? [Path.GetDirectoryName(stats)!] : [],
            },
            new RolePlan
            {
                Role = BalancerRole,
                NodePrefix = "lb",
                Count = config.Balancers,
                // h2c needs a listener of its own: without TLS there is no ALPN to pick HTTP/2 on the HTTP/1.1 port.
                Ports = [new PlannedPort("http", config.BalancerPort), new PlannedPort(BalancerNode.H2cPortName, config.BalancerH2cPort)],
                DependsOn = [WorkerRole],
            },
        ],
    };
}
