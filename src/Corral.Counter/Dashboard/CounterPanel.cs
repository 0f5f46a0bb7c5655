using Corral.Node.Dashboard;

namespace Corral.Counter.Dashboard;

/// <summary>
/// The counter's dashboard panel: the tenants written lately with their counts and the items acknowledged (hence items/s),
/// from the coordinator's <c>/counter/tenants</c>, and which worker owns which partitions (<c>/counter/owners</c>).
/// </summary>
internal static class CounterPanel
{
    public static DashboardPanel Create() => new()
    {
        Title = "Counter",
        ScriptAssembly = typeof(CounterPanel).Assembly,
        ScriptResource = "Corral.Counter.Dashboard.panel.js",
        Routes =
        [
            new PanelRoute(CounterPlan.CoordinatorRole, "GET", "/counter/tenants"),
            new PanelRoute(CounterPlan.CoordinatorRole, "GET", "/counter/owners"),
        ],
    };
}
