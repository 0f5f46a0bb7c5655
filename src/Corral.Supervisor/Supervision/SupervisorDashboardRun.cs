using Corral.Node.Control;
using Corral.Node.Dashboard;
using Corral.Node.Planning;
using Corral.Supervisor.Dashboard;

namespace Corral.Supervisor.Supervision;

/// <summary>The dashboard's view of a run: the node table and plan, and the control API its actions go through.</summary>
internal sealed class SupervisorDashboardRun(RunSupervisor supervisor, Reconciler reconciler, string app) : IDashboardRun
{
    public string RunId => supervisor.Run.RunId;
    public string App => app;
    public IReadOnlyList<NodeStatus> Nodes() => reconciler.Nodes();
    public IReadOnlyList<RolePlan> Roles() => reconciler.Plan.Roles;
    public Task Changed => reconciler.Changed;
    public Uri ControlUrl => supervisor.ControlUrl;
    public string Token => supervisor.OperatorCredential;
}

/// <summary>Writes every line to two sinks: the terminal's and the dashboard's.</summary>
internal sealed class TeeOutputSink(IOutputSink first, IOutputSink second) : IOutputSink
{
    public void NodeLine(string nodeId, string line)
    {
        first.NodeLine(nodeId, line);
        second.NodeLine(nodeId, line);
    }

    public void SupervisorLine(string line)
    {
        first.SupervisorLine(line);
        second.SupervisorLine(line);
    }
}
