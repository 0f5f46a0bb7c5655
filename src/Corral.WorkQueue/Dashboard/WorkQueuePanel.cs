using Corral.Node.Dashboard;

namespace Corral.WorkQueue.Dashboard;

/// <summary>The work queue's dashboard panel: the reporter's progress and task table, from the controller's <c>/api/results</c> and its live feed.</summary>
internal static class WorkQueuePanel
{
    public static DashboardPanel Create() => new()
    {
        Title = "Work queue",
        ScriptAssembly = typeof(WorkQueuePanel).Assembly,
        ScriptResource = "Corral.WorkQueue.Dashboard.panel.js",
        Routes =
        [
            new PanelRoute(WorkQueuePlan.ControllerRole, "GET", Controller.QueueRoutes.Results),
            new PanelRoute(WorkQueuePlan.ControllerRole, "GET", Controller.QueueRoutes.Events),
        ],
    };
}
