using Corral.Balancer.Config;
using Corral.Hosting.Planning;

namespace Corral.Balancer;

/// <summary>Turns a balancer config into the supervisor's plan: N workers, then M balancers once the workers are ready.</summary>
public static class BalancerPlanner
{
    public const string App = "balancer";
    public const string WorkerRole = "balancer.worker";
    public const string BalancerRole = "balancer.lb";

    public static AppPlan Plan(BalancerConfig config) => new()
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
            },
            new RolePlan
            {
                Role = BalancerRole,
                NodePrefix = "lb",
                Count = config.Balancers,
                Ports = [new PlannedPort("http", config.BalancerPort)],
                DependsOn = [WorkerRole],
            },
        ],
    };
}
