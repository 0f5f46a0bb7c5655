using Corral.Node.Control;
using Corral.Node.Planning;

namespace Corral.Supervisor.Dashboard;

/// <summary>What the dashboard reads of a run: its nodes and plan, and where its control API is (changes go through it).</summary>
internal interface IDashboardRun
{
    string RunId { get; }
    string App { get; }
    IReadOnlyList<NodeStatus> Nodes();
    IReadOnlyList<RolePlan> Roles();

    /// <summary>Completes at the next change of any node; take it, read, then await it.</summary>
    Task Changed { get; }

    Uri ControlUrl { get; }
    /// <summary>The operator's credential: what the dashboard sends the control API and the nodes' panel routes.</summary>
    string Token { get; }
}
