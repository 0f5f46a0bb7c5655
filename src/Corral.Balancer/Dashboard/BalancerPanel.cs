using Corral.Node.Dashboard;

namespace Corral.Balancer.Dashboard;

/// <summary>
/// The balancer's dashboard panel: per worker requests/s, failure rate, mean and p99 latency (from a worker's
/// <c>/stats</c>, which reads every worker's row), each balancer's view of its workers (<c>/lb/stats</c>), and the
/// workers' fault controls (<c>PUT /faults</c> on their admin port).
/// </summary>
internal static class BalancerPanel
{
    public static DashboardPanel Create() => new()
    {
        Title = "Balancer",
        ScriptAssembly = typeof(BalancerPanel).Assembly,
        ScriptResource = "Corral.Balancer.Dashboard.panel.js",
        Routes =
        [
            new PanelRoute(BalancerPlan.WorkerRole, "GET", "/stats", "admin"),
            new PanelRoute(BalancerPlan.WorkerRole, "GET", "/faults", "admin"),
            new PanelRoute(BalancerPlan.WorkerRole, "PUT", "/faults", "admin"),
            new PanelRoute(BalancerPlan.BalancerRole, "GET", "/lb/stats"),
        ],
    };
}
